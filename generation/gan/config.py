"""`GANConfig`: the single source of every training hyperparameter.

A config travels inside every checkpoint and every exported model, and the API layer builds one from user
input with `GANConfig.from_overrides`, which raises `ConfigError` naming the offending field.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ClassVar

RESOLUTIONS = (32, 64, 128)
LOSSES = ("bce", "hinge")
AUGMENT_OPS = ("color", "translation", "cutout")
MAX_SEED = 2**32 - 1  # numpy's legacy seeding accepts no more


class ConfigError(ValueError):
    """A config value is unknown, of the wrong type or out of bounds; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, kw_only=True)
class GANConfig:
    # model
    resolution: int = 64
    latent_dim: int = 128
    g_channels: int = 64  # width of G's last hidden layer; doubles toward the 4x4 input
    d_channels: int = 64  # width of D's first layer; doubles toward the 4x4 output
    conditional: bool = False
    num_classes: int = 1  # must be 1 unless conditional
    spectral_norm: bool = False  # on D; replaces D's batch norm when on
    # objective and optimisation
    loss: str = "bce"  # "bce" (non-saturating) or "hinge"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 64
    ema_decay: float = 0.999
    augment_policy: str = "color,translation,cutout"  # DiffAugment ops, comma-separated; "" disables it
    mirror: bool = True  # random horizontal flips of real images
    # schedule and bookkeeping
    steps: int = 10_000
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 500
    sample_every: int = 500
    sample_count: int = 64  # images in the fixed-noise sample grid

    BOUNDS: ClassVar[dict[str, tuple[float, float]]] = {
        "latent_dim": (1, 1024),
        "g_channels": (4, 512),
        "d_channels": (4, 512),
        "num_classes": (1, 1000),
        "lr_g": (1e-6, 1e-1),
        "lr_d": (1e-6, 1e-1),
        "beta1": (0.0, 0.999),
        "beta2": (0.0, 0.9999),
        "batch_size": (1, 512),
        "ema_decay": (0.0, 0.99999),
        "steps": (1, 1_000_000),
        "seed": (0, MAX_SEED),
        "log_every": (1, 1_000_000),
        "checkpoint_every": (1, 1_000_000),
        "sample_every": (1, 1_000_000),
        "sample_count": (1, 256),
    }

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            _check_type(field.name, value, field.type)
            if field.type == "float":
                object.__setattr__(self, field.name, float(value))
        for name, (low, high) in self.BOUNDS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(name, f"must be between {low:g} and {high:g}, got {value!r}")
        if self.resolution not in RESOLUTIONS:
            raise ConfigError("resolution", f"must be one of {list(RESOLUTIONS)}, got {self.resolution!r}")
        if self.loss not in LOSSES:
            raise ConfigError("loss", f"must be one of {list(LOSSES)}, got {self.loss!r}")
        if not self.conditional and self.num_classes != 1:
            raise ConfigError("num_classes", "must be 1 for an unconditional model")
        ops = self.augment_ops
        unknown = [op for op in ops if op not in AUGMENT_OPS]
        if unknown or len(set(ops)) != len(ops):
            raise ConfigError(
                "augment_policy",
                f"must list distinct ops from {list(AUGMENT_OPS)}, got {self.augment_policy!r}",
            )

    @property
    def augment_ops(self) -> tuple[str, ...]:
        return tuple(op.strip() for op in self.augment_policy.split(",") if op.strip())

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GANConfig:
        """Build from a (possibly partial) dict; missing keys take defaults, unknown keys are rejected."""
        if not isinstance(data, dict):
            raise ConfigError("config", f"must be an object, got {type(data).__name__}")
        known = {field.name for field in dataclasses.fields(cls)}
        for key in data:
            if key not in known:
                raise ConfigError(str(key), "is not a known setting")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> GANConfig:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_overrides(cls, base: dict[str, Any] | None, overrides: dict[str, Any]) -> GANConfig:
        """`base` (e.g. a stored config) with `overrides` (e.g. a request body) on top, validated."""
        return cls.from_dict({**(base or {}), **overrides})

    def replace(self, **changes: Any) -> GANConfig:
        return dataclasses.replace(self, **changes)


def _check_type(name: str, value: Any, annotation: str) -> None:
    # bool is a subclass of int: reject it for numbers, and reject ints for flags.
    if annotation == "bool":
        ok = isinstance(value, bool)
    elif annotation == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif annotation == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    elif annotation == "str":
        ok = isinstance(value, str)
    else:  # pragma: no cover - a new field type must be handled above
        raise TypeError(f"unhandled config field type {annotation!r}")
    if not ok:
        raise ConfigError(name, f"must be a {annotation}, got {type(value).__name__} {value!r}")
