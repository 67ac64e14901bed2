"""Checkpoints: reading them back, and the RNG states one carries so that a resume is exact."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from generation.gan.config import GANConfig
from generation.gan.networks import build_generator

CHECKPOINT_FORMAT = "atelier.gan-checkpoint/1"


@dataclass(frozen=True)
class LoadedGenerator:
    generator: nn.Module  # Generator or FastGenerator, eval mode, on the CPU unless asked otherwise
    config: GANConfig
    step: int
    dataset_hash: str
    class_names: tuple[str, ...]


def load_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint's state (tensors on the CPU); loaded with weights_only, so it runs no pickled code."""
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a training checkpoint ({CHECKPOINT_FORMAT})")
    return state


def load_generator(checkpoint_path: Path, *, ema: bool = True, device: str = "cpu") -> LoadedGenerator:
    """The (EMA) generator of a checkpoint, in eval mode, with what export needs to describe it."""
    state = load_checkpoint(checkpoint_path)
    config = GANConfig.from_dict(state["config"])
    generator = build_generator(config)
    generator.load_state_dict(state["generator_ema" if ema else "generator"])
    if config.conditional:
        # the fade-in weight is not a saved tensor: it follows from the step (the last one trained)
        generator.conditioning.fill_(config.conditioning_at(max(0, int(state["step"]) - 1)))
    return LoadedGenerator(
        generator=generator.to(device).eval().requires_grad_(False),
        config=config,
        step=int(state["step"]),
        dataset_hash=str(state["dataset_hash"]),
        class_names=tuple(state["class_names"]),
    )


def capture_rng_states(generators: dict[str, torch.Generator]) -> dict[str, Any]:
    """python, numpy, torch CPU and CUDA global states, plus the named generators', in weights_only types."""
    version, mt_state, gauss = random.getstate()
    name, keys, position, has_gauss, cached = np.random.get_state(legacy=True)
    return {
        "python": [version, list(mt_state), gauss],
        "numpy": [name, keys.tolist(), int(position), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        **{key: generator.get_state() for key, generator in generators.items()},
    }


def restore_rng_states(states: dict[str, Any], generators: dict[str, torch.Generator]) -> None:
    version, mt_state, gauss = states["python"]
    random.setstate((version, tuple(mt_state), gauss))
    name, keys, position, has_gauss, cached = states["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))
    torch.set_rng_state(states["torch"])
    cuda = states["cuda"]
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    for key, generator in generators.items():
        generator.set_state(states[key])
