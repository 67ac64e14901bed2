import pytest
import torch
import torch.nn.functional as F

from generation.gan.losses import discriminator_loss, generator_loss


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
