import pytest
import torch

from generation.gan.augment import AUGMENTATIONS, cutout, diff_augment, translation

ALL_OPS = ("color", "translation", "cutout")


def _images(seed: int = 0) -> torch.Tensor:
    return torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_same_generator_seed_gives_identical_augmentations():
    images = _images()
    first = diff_augment(images, ops=ALL_OPS, generator=torch.Generator().manual_seed(11))
    second = diff_augment(images, ops=ALL_OPS, generator=torch.Generator().manual_seed(11))
    assert torch.equal(first, second)


def test_different_seeds_give_different_augmentations():
    images = _images()
    first = diff_augment(images, ops=ALL_OPS, generator=torch.Generator().manual_seed(1))
    second = diff_augment(images, ops=ALL_OPS, generator=torch.Generator().manual_seed(2))
    assert not torch.equal(first, second)


def test_augmentation_does_not_touch_the_global_torch_rng():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    diff_augment(_images(), ops=ALL_OPS, generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("op", sorted(AUGMENTATIONS))
def test_each_op_keeps_the_shape_and_passes_gradients(op):
    images = _images().requires_grad_(True)
    out = AUGMENTATIONS[op](images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    out.square().sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_real_and_fake_batches_get_the_same_shape():
    generator = torch.Generator().manual_seed(3)
    real = diff_augment(_images(1), ops=ALL_OPS, generator=generator)
    fake = diff_augment(_images(2), ops=ALL_OPS, generator=generator)
    assert real.shape == fake.shape == (6, 3, 32, 32)


def test_translation_only_moves_pixels_or_fills_with_zero():
    images = _images()
    moved = translation(images, torch.Generator().manual_seed(4))
    values = set(images.flatten().tolist()) | {0.0}
    assert set(moved.flatten().tolist()) <= values
    assert not torch.equal(moved, images)


def test_cutout_blanks_at_most_a_half_size_square_per_image():
    ones = torch.ones(8, 3, 32, 32)
    out = cutout(ones, torch.Generator().manual_seed(9))
    zeros_per_image = (out[:, 0] == 0).flatten(1).sum(dim=1)
    assert torch.all(zeros_per_image > 0)
    assert torch.all(zeros_per_image <= 16 * 16)
    assert torch.equal(out[:, 0] == 0, out[:, 2] == 0)  # the same hole in every channel
