"""GAN objectives on raw discriminator logits.

`bce`: the non-saturating loss of Goodfellow et al. (2014) (BCE-with-logits; G maximises log D(G(z))).
`hinge`: the hinge loss of Lim & Ye (2017) / Miyato et al. (2018).
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
    raise ValueError(f"unknown loss {loss!r}")


def generator_loss(loss: str, fake_logits: torch.Tensor) -> torch.Tensor:
    if loss == "bce":
        return F.softplus(-fake_logits).mean()
    if loss == "hinge":
        return -fake_logits.mean()
    raise ValueError(f"unknown loss {loss!r}")
