"""Fine-tuning hooks, kept apart from the trainer: start a fresh `Trainer` from a parent run's checkpoint, and
freeze the discriminator's first blocks (Mo et al. 2020, "Freeze the Discriminator").

`init_from_checkpoint` copies G, its EMA and (unless `fresh_discriminator`) D and both optimisers' state; the
step, RNG streams and ADA state stay the new run's, so a fine-tune is its own seeded run and resumes exactly
through the trainer's own checkpoints. `freeze_discriminator_blocks` must be applied after every construction
and resume: frozen parameters get zero gradients (a tensor hook, which survives the trainer toggling
requires_grad) and zero Adam moments, so Adam moves them by exactly 0.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from generation.gan.checkpoint import load_checkpoint
from generation.gan.config import ConfigError, GANConfig
from generation.gan.trainer import Trainer

ARCHITECTURE_FIELDS = (
    "arch",
    "resolution",
    "latent_dim",
    "g_channels",
    "d_channels",
    "conditional",
    "num_classes",
    "spectral_norm",
    "mbstd_group",  # D's last layer takes one more map when on
    "periodic_channels",  # G's up stages take more maps when on
)
_DEFAULTS = GANConfig().to_dict()  # what a parent checkpoint written before a field existed trained with


def init_from_checkpoint(trainer: Trainer, checkpoint_path: Path, *, fresh_discriminator: bool = False) -> None:
    state = load_checkpoint(checkpoint_path)
    parent = state["config"]
    for name in ARCHITECTURE_FIELDS:
        if parent.get(name, _DEFAULTS[name]) != getattr(trainer.config, name):
            raise ConfigError(name, f"a fine-tune keeps its parent's {name} ({parent.get(name)!r})")
    trainer.generator.load_state_dict(state["generator"])
    trainer.generator_ema.load_state_dict(state["generator_ema"])
    trainer.optimizer_g.load_state_dict(state["optimizer_g"])
    if not fresh_discriminator:
        trainer.discriminator.load_state_dict(state["discriminator"])
        trainer.optimizer_d.load_state_dict(state["optimizer_d"])
    for optimizer, lr in ((trainer.optimizer_g, trainer.config.lr_g), (trainer.optimizer_d, trainer.config.lr_d)):
        for group in optimizer.param_groups:  # the fine-tune's learning rates, not the parent's
            group["lr"] = lr


def discriminator_blocks(discriminator: nn.Module) -> list[nn.Module]:
    """D's blocks from the image inward: FastGAN's from_rgb and down blocks, DCGAN's conv stages."""
    if hasattr(discriminator, "from_rgb"):
        return [discriminator.from_rgb, *discriminator.blocks]
    stages: list[list[nn.Module]] = []
    for layer in discriminator.features:
        if isinstance(layer, nn.Conv2d) or any(isinstance(m, nn.Conv2d) for m in layer.modules()) or not stages:
            stages.append([])
        stages[-1].append(layer)
    return [nn.Sequential(*stage) for stage in stages]


def freeze_discriminator_blocks(trainer: Trainer, count: int) -> int:
    """Freeze D's first `count` blocks; returns how many parameters were frozen."""
    blocks = discriminator_blocks(trainer.discriminator)
    if not 0 <= count < len(blocks):
        raise ConfigError("freeze_d_blocks", f"must be between 0 and {len(blocks) - 1} for this discriminator")
    frozen = [param for block in blocks[:count] for param in block.parameters()]
    for param in frozen:
        param.register_hook(torch.zeros_like)
        state = trainer.optimizer_d.state.get(param)
        if state:
            for key in ("exp_avg", "exp_avg_sq"):
                if key in state:
                    state[key].zero_()
    return len(frozen)
