import math

import pytest
import torch
from torch import nn

from generation.gan.config import ConfigError, GANConfig
from generation.gan.networks import (
    Discriminator,
    Generator,
    MinibatchStd,
    PeriodicMaps,
    build_discriminator,
    build_generator,
)


@pytest.mark.parametrize("resolution", [32, 64, 128])
def test_generator_makes_images_of_the_configured_resolution_in_tanh_range(resolution):
    generator = Generator(resolution=resolution, latent_dim=16, channels=4)
    images = generator(torch.randn(3, 16))
    assert images.shape == (3, 3, resolution, resolution)
    assert images.abs().max() <= 1.0


@pytest.mark.parametrize("resolution", [32, 64, 128])
def test_discriminator_gives_one_logit_per_image(resolution):
    discriminator = Discriminator(resolution=resolution, channels=4)
    assert discriminator(torch.randn(5, 3, resolution, resolution)).shape == (5,)


def test_dcgan_64_has_the_papers_layer_widths():
    generator = Generator(resolution=64, latent_dim=100, channels=64)
    widths = [m.out_channels for m in generator.main if isinstance(m, nn.ConvTranspose2d)]
    assert widths == [512, 256, 128, 64, 3]
    discriminator = Discriminator(resolution=64, channels=64)
    widths = [m.out_channels for m in discriminator.modules() if isinstance(m, nn.Conv2d)]
    assert widths == [64, 128, 256, 512, 1]


def test_conditional_generator_output_depends_on_the_label():
    generator = Generator(resolution=32, latent_dim=16, channels=4, num_classes=3).eval()
    z = torch.randn(1, 16).repeat(3, 1)
    images = generator(z, torch.tensor([0, 1, 2]))
    assert images.shape == (3, 3, 32, 32)
    assert not torch.equal(images[0], images[1])


def test_projection_discriminator_logit_depends_on_the_label():
    discriminator = Discriminator(resolution=32, channels=4, num_classes=3).eval()
    image = torch.randn(1, 3, 32, 32).repeat(3, 1, 1, 1)
    logits = discriminator(image, torch.tensor([0, 1, 2]))
    assert logits.shape == (3,)
    assert len(set(logits.tolist())) == 3


def test_class_embedding_starts_small_beside_z_so_the_generator_keeps_using_z():
    torch.manual_seed(0)
    generator = Generator(resolution=32, latent_dim=64, channels=4, num_classes=10)
    assert generator.embed.weight.std().item() == pytest.approx(0.1, rel=0.15)


def test_conditional_networks_refuse_missing_labels():
    with pytest.raises(ValueError, match="labels"):
        Generator(resolution=32, latent_dim=8, channels=4, num_classes=2)(torch.randn(2, 8))
    with pytest.raises(ValueError, match="labels"):
        Discriminator(resolution=32, channels=4, num_classes=2)(torch.randn(2, 3, 32, 32))


def test_weights_follow_dcgan_initialisation_statistics():
    torch.manual_seed(0)
    config = GANConfig(resolution=64)
    for network in (build_generator(config), build_discriminator(config)):
        conv_weights = torch.cat(
            [m.weight.flatten() for m in network.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        )
        assert abs(conv_weights.mean().item()) < 1e-3
        assert conv_weights.std().item() == pytest.approx(0.02, rel=0.02)
        norms = [m for m in network.modules() if isinstance(m, nn.BatchNorm2d)]
        gammas = torch.cat([m.weight for m in norms])
        assert gammas.mean().item() == pytest.approx(1.0, abs=0.005)
        assert gammas.std().item() == pytest.approx(0.02, rel=0.15)
        assert all(torch.count_nonzero(m.bias) == 0 for m in norms)


def test_spectral_norm_discriminator_replaces_batch_norm_and_bounds_each_layer():
    torch.manual_seed(0)
    discriminator = Discriminator(resolution=32, channels=8, spectral_norm=True)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in discriminator.modules())
    for _ in range(30):  # each training-mode forward runs one power iteration
        discriminator(torch.randn(2, 3, 32, 32))
    convs = [m for m in discriminator.modules() if isinstance(m, nn.Conv2d)]
    for conv in convs:
        sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2).item()
        assert sigma == pytest.approx(1.0, abs=0.05)


def test_builders_follow_the_config():
    config = GANConfig(resolution=32, latent_dim=20, g_channels=4, d_channels=4, conditional=True, num_classes=5)
    generator, discriminator = build_generator(config), build_discriminator(config)
    assert generator.latent_dim == 20 and generator.num_classes == 5
    assert discriminator.num_classes == 5
    assert generator(torch.randn(2, 20), torch.tensor([0, 4])).shape == (2, 3, 32, 32)


# ---- minibatch standard deviation (mbstd_group) ----------------------------------------------------------


def _stylegan2_mbstd(x: torch.Tensor, group: int) -> torch.Tensor:
    """StyleGAN2-ADA's MinibatchStdLayer with one channel, written out step by step for comparison."""
    n, c, h, w = x.shape
    y = x.reshape(group, n // group, c, h, w)
    y = y - y.mean(dim=0)
    y = y.square().mean(dim=0)
    y = (y + 1e-8).sqrt()
    y = y.mean(dim=[1, 2, 3]).reshape(-1, 1, 1, 1)
    return torch.cat([x, y.repeat(group, 1, h, w)], dim=1)


def test_minibatch_std_appends_the_stylegan2_group_stddev_map():
    x = torch.randn(16, 8, 4, 4, generator=torch.Generator().manual_seed(0))
    out = MinibatchStd(4)(x)
    assert out.shape == (16, 9, 4, 4)
    assert torch.equal(out[:, :8], x)
    torch.testing.assert_close(out, _stylegan2_mbstd(x, 4))


@pytest.mark.parametrize(("batch", "group"), [(6, 2), (5, 1), (1, 1), (8, 4)])
def test_minibatch_std_takes_any_batch_using_the_common_divisor_with_the_group(batch, group):
    x = torch.randn(batch, 4, 4, 4, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(MinibatchStd(4)(x), _stylegan2_mbstd(x, group))


def test_minibatch_std_map_is_near_zero_for_a_batch_of_identical_images():
    same = torch.randn(1, 8, 4, 4).expand(8, -1, -1, -1)
    assert MinibatchStd(4)(same)[:, 8].max() < 1e-3
    assert MinibatchStd(4)(torch.randn(8, 8, 4, 4))[:, 8].min() > 0.5


@pytest.mark.parametrize("arch", ["dcgan", "fastgan"])
def test_mbstd_discriminator_sees_the_batch_and_off_keeps_the_old_state_dict(arch):
    config = GANConfig(arch=arch, resolution=32, d_channels=8)
    plain, with_std = build_discriminator(config), build_discriminator(config.replace(mbstd_group=4))
    assert plain.mbstd is None and isinstance(with_std.mbstd, MinibatchStd)
    assert with_std.head.weight.shape[1] == plain.head.weight.shape[1] + 1
    assert set(plain.state_dict()) == set(with_std.state_dict())  # the layer has no parameters of its own
    with_std.eval()
    images = torch.rand(8, 3, 32, 32) * 2 - 1
    assert with_std(images).shape == (8,)
    # an image's logit depends on the others in its group: the layer is what lets D see a collapsed batch
    alone = with_std(images)[0]
    others_alike = with_std(torch.cat([images[:1]] * 8))[0]
    assert not torch.allclose(alone, others_alike)
    assert with_std(images[:5]).shape == (5,)


# ---- periodic maps (periodic_channels) -------------------------------------------------------------------


def test_periodic_maps_draw_plane_waves_over_the_image_at_any_grid():
    # one wave of 2 cycles per image along x, phase pi/2: cos(4 pi x) at the cell centres
    waves = torch.tensor([[[2.0, 0.0, math.pi / 2]]])
    for size in (4, 8, 32):
        centres = (torch.arange(size, dtype=torch.float32) + 0.5) / size
        expected = torch.cos(4 * math.pi * centres).expand(size, size)  # constant down each column
        torch.testing.assert_close(PeriodicMaps.draw(waves, size)[0, 0], expected, atol=1e-5, rtol=0)
    diagonal = PeriodicMaps.draw(torch.tensor([[[1.0, 1.0, 0.0]]]), 8)[0, 0]
    torch.testing.assert_close(diagonal, diagonal.T)  # f = (1, 1): symmetric about the diagonal


def test_periodic_generator_feeds_every_up_stage_and_off_keeps_the_old_state_dict():
    config = GANConfig(resolution=32, g_channels=8, latent_dim=16)
    plain, periodic = build_generator(config), build_generator(config.replace(periodic_channels=5))
    assert plain.periodic is None and isinstance(periodic.periodic, PeriodicMaps)
    ups = [m for m in periodic.main if isinstance(m, torch.nn.ConvTranspose2d)]
    plain_ups = [m for m in plain.main if isinstance(m, torch.nn.ConvTranspose2d)]
    assert ups[0].in_channels == plain_ups[0].in_channels  # the 1x1 -> 4x4 layer takes z alone
    assert [u.in_channels - p.in_channels for u, p in zip(ups[1:], plain_ups[1:], strict=True)] == [5, 5, 5]
    assert set(periodic.state_dict()) - set(plain.state_dict()) == {"periodic.waves.weight", "periodic.waves.bias"}
    z = torch.randn(6, 16, generator=torch.Generator().manual_seed(0))
    periodic.eval()
    images = periodic(z)
    assert images.shape == (6, 3, 32, 32)
    with torch.no_grad():
        periodic.periodic.waves.weight.mul_(2.0)  # other frequencies and phases: another image from the same z
    assert not torch.allclose(periodic(z), images)


def test_periodic_maps_are_a_dcgan_option():
    with pytest.raises(ConfigError, match="periodic_channels"):
        GANConfig(arch="fastgan", periodic_channels=4)
    with pytest.raises(ConfigError, match="periodic_channels"):
        GANConfig(periodic_channels=65)
