import pytest
import torch
from torch import nn

from generation.gan.config import GANConfig
from generation.gan.networks import Discriminator, Generator, build_discriminator, build_generator


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
