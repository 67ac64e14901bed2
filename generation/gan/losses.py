"""GAN objectives on raw discriminator logits.

`bce`: the non-saturating loss of Goodfellow et al. (2014) (BCE-with-logits; G maximises log D(G(z))).
`hinge`: the hinge loss of Lim & Ye (2017) / Miyato et al. (2018).
`rpgan`: the relativistic pairing loss of Jolicoeur-Martineau (2018) as R3GAN uses it (Huang et al., 2024):
each real is paired with a fake and D (G) is scored on the difference of their logits, with R1 + R2 penalties
(`gradient_penalty`) keeping it well-posed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(loss: str, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    if loss == "bce":
        # softplus(-x) = -log(sigmoid(x)), softplus(x) = -log(1 - sigmoid(x)), stable for any logit
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    if loss == "hinge":
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()
    if loss == "rpgan":
        return F.softplus(-(real_logits - fake_logits)).mean()
    raise ValueError(f"unknown loss {loss!r}")


def generator_loss(loss: str, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None) -> torch.Tensor:
    """`real_logits` (of the paired reals, no gradient needed) only for the relativistic loss."""
    if loss == "rpgan":
        if real_logits is None:
            raise ValueError("the relativistic loss needs the paired reals' logits")
        return F.softplus(-(fake_logits - real_logits)).mean()
    if loss == "bce":
        return F.softplus(-fake_logits).mean()
    if loss == "hinge":
        return -fake_logits.mean()
    raise ValueError(f"unknown loss {loss!r}")


def gradient_penalty(logits: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """E[|grad_x D(x)|^2] (R1 on reals, R2 on fakes), differentiable w.r.t. D's weights; `inputs` must have
    been fed to D with requires_grad."""
    (gradient,) = torch.autograd.grad(logits.float().sum(), inputs, create_graph=True)
    return gradient.float().square().sum(dim=(1, 2, 3)).mean()


def reconstruction_loss(reconstruction: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """FastGAN's decoder loss with pixels instead of LPIPS: L1 + MSE against the images, downsampled to the
    reconstruction's size."""
    size = reconstruction.shape[-1]
    target = images if images.shape[-1] == size else F.adaptive_avg_pool2d(images, size)
    reconstruction, target = reconstruction.float(), target.float()
    return F.l1_loss(reconstruction, target) + F.mse_loss(reconstruction, target)


def mode_seeking_loss(images: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
    """MSGAN's term (Mao et al., 2019): 1 / (mean |G(z1) - G(z2)| / mean |z1 - z2|) over the pairs
    (i, N - n + i), n = N // 2: the first and the last n images of the batch. Small when distinct latents give
    distinct images. images [N, 3, R, R], latents [N, D]; a batch of one image has no pair and gives 0."""
    half = images.shape[0] // 2
    if half == 0:
        return images.new_zeros(())
    image_distance = (images[:half].float() - images[-half:].float()).abs().mean()
    latent_distance = (latents[:half].float() - latents[-half:].float()).abs().mean()
    return 1.0 / (image_distance / latent_distance + 1e-5)
