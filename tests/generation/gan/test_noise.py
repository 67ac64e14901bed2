import numpy as np
import pytest

from generation.gan.noise import interpolate, latents_for_seeds, to_uint8_images


def test_a_seeds_latent_does_not_depend_on_the_other_seeds_in_the_batch():
    alone = latents_for_seeds([42], 32)
    batched = latents_for_seeds([7, 42, 9], 32)
    assert alone.dtype == np.float32 and alone.shape == (1, 32)
    assert np.array_equal(alone[0], batched[1])


def test_latents_are_standard_normal_draws():
    z = latents_for_seeds(range(200), 64)
    assert abs(z.mean()) < 0.02
    assert z.std() == pytest.approx(1.0, abs=0.02)
    assert not np.array_equal(z[0], z[1])


def test_truncation_scales_latents_toward_zero():
    full = latents_for_seeds([3], 16)
    half = latents_for_seeds([3], 16, truncation=0.5)
    assert np.array_equal(half, full * np.float32(0.5))
    assert np.array_equal(latents_for_seeds([3], 16, truncation=0.0), np.zeros((1, 16), np.float32))


@pytest.mark.parametrize("truncation", [-0.1, 1.5])
def test_truncation_outside_zero_to_one_is_rejected(truncation):
    with pytest.raises(ValueError, match="truncation"):
        latents_for_seeds([0], 4, truncation=truncation)


def test_negative_seed_is_rejected():
    with pytest.raises(ValueError, match="seed"):
        latents_for_seeds([-1], 4)


def test_interpolation_starts_and_ends_on_the_seeds_latents():
    path = interpolate(1, 2, 5, latent_dim=32, truncation=0.7)
    ends = latents_for_seeds([1, 2], 32, truncation=0.7)
    assert path.shape == (5, 32) and path.dtype == np.float32
    assert np.array_equal(path[0], ends[0]) and np.array_equal(path[-1], ends[1])


def test_slerp_midpoint_keeps_the_norm_that_lerp_would_shrink():
    a, b = latents_for_seeds([10, 11], 256).astype(np.float64)
    middle = interpolate(10, 11, 3, latent_dim=256)[1]
    lerp_middle = (a + b) / 2
    assert np.linalg.norm(middle) > np.linalg.norm(lerp_middle)
    assert np.linalg.norm(middle) == pytest.approx((np.linalg.norm(a) + np.linalg.norm(b)) / 2, rel=0.05)


def test_uint8_conversion_maps_range_and_layout():
    images = np.array([-1.0, 0.0, 1.0, 2.0], dtype=np.float32).reshape(1, 1, 1, 4).repeat(3, axis=1)
    out = to_uint8_images(images)
    assert out.shape == (1, 1, 4, 3) and out.dtype == np.uint8
    assert out[0, 0, :, 0].tolist() == [0, 128, 255, 255]
    assert out.flags["C_CONTIGUOUS"]


def test_the_one_seed_bound_holds_for_every_consumer_of_seeds():
    """Training seeds numpy's legacy generator and torch's (trainer.stream_seed); images are seeded by PCG64 and
    read back from JSON by browsers (doubles); the training config's bound is the same constant."""
    import torch

    from generation.gan import config
    from generation.gan.noise import MAX_SEED
    from generation.gan.trainer import stream_seed

    assert config.MAX_SEED is MAX_SEED and config.GANConfig(seed=MAX_SEED).seed == MAX_SEED
    np.random.seed(MAX_SEED)
    with pytest.raises(ValueError):
        np.random.seed(MAX_SEED + 1)  # what a larger bound would let through to a training run
    with pytest.raises(config.ConfigError):
        config.GANConfig(seed=MAX_SEED + 1)
    torch.Generator().manual_seed(stream_seed(MAX_SEED, 3))
    assert float(MAX_SEED) == MAX_SEED  # exact as a JSON number in a browser
    assert latents_for_seeds([MAX_SEED], 8).shape == (1, 8)
    # the bound is checked where seeds come in; a stored image's older, larger seed still regenerates
    assert latents_for_seeds([2**63 - 1], 8).shape == (1, 8)
    with pytest.raises(ValueError):
        latents_for_seeds([-1], 8)
