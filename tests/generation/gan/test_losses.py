import pytest
import torch
import torch.nn.functional as F

from generation.gan.losses import discriminator_loss, generator_loss, mode_seeking_loss


def test_bce_losses_equal_binary_cross_entropy_on_the_logits():
    real, fake = torch.randn(16), torch.randn(16)
    expected_d = F.binary_cross_entropy_with_logits(real, torch.ones(16)) + F.binary_cross_entropy_with_logits(
        fake, torch.zeros(16)
    )
    assert discriminator_loss("bce", real, fake).item() == pytest.approx(expected_d.item(), rel=1e-6)
    expected_g = F.binary_cross_entropy_with_logits(fake, torch.ones(16))  # non-saturating: G wants D(fake)=1
    assert generator_loss("bce", fake).item() == pytest.approx(expected_g.item(), rel=1e-6)


def test_bce_is_finite_for_extreme_logits():
    logits = torch.tensor([-1e4, 1e4])
    assert torch.isfinite(discriminator_loss("bce", logits, logits))
    assert torch.isfinite(generator_loss("bce", logits))


def test_hinge_loss_ignores_confident_correct_logits():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-3.0, 0.0])
    # relu(1 - real) = [0, 0.5] -> 0.25 ; relu(1 + fake) = [0, 1] -> 0.5
    assert discriminator_loss("hinge", real, fake).item() == pytest.approx(0.75)
    assert generator_loss("hinge", fake).item() == pytest.approx(1.5)


def test_unknown_loss_is_rejected():
    with pytest.raises(ValueError, match="unknown loss"):
        discriminator_loss("wgan", torch.zeros(1), torch.zeros(1))


def test_mode_seeking_loss_is_latent_distance_over_image_distance_of_the_paired_halves():
    images = torch.zeros(4, 3, 2, 2)
    images[2:] = 0.5  # pairs (0, 2) and (1, 3) differ by 0.5 everywhere
    latents = torch.zeros(4, 8)
    latents[2:] = 2.0
    # 1 / (0.5 / 2.0 + 1e-5)
    assert mode_seeking_loss(images, latents).item() == pytest.approx(1 / (0.25 + 1e-5), rel=1e-6)


def test_mode_seeking_loss_pairs_the_first_and_last_halves_of_an_odd_batch():
    images = torch.zeros(5, 3, 2, 2)
    images[3:] = 1.0  # the middle image has no pair: pairs are (0, 3) and (1, 4)
    images[2] = 100.0
    latents = torch.zeros(5, 4)
    latents[3:] = 1.0
    assert mode_seeking_loss(images, latents).item() == pytest.approx(1 / (1.0 + 1e-5), rel=1e-6)
    assert mode_seeking_loss(images[:1], latents[:1]).item() == 0.0


def test_mode_seeking_loss_falls_as_distinct_latents_give_distinct_images():
    latents = torch.randn(8, 16)
    spread = torch.zeros(8, 3, 4, 4, requires_grad=True)
    with torch.no_grad():
        spread[4:] += 0.1
    collapsed = mode_seeking_loss(spread, latents)
    collapsed.backward()
    # the gradient moves the two halves apart: descending it widens their distance
    with torch.no_grad():
        stepped = spread - 0.01 * spread.grad
    assert (stepped[4:] - stepped[:4]).abs().mean() > (spread[4:] - spread[:4]).abs().mean()
    assert mode_seeking_loss(stepped, latents) < collapsed
