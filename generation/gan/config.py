"""`GANConfig`: the single source of every training hyperparameter.

A config travels inside every checkpoint and every exported model, and the API layer builds one from user
input with `GANConfig.from_overrides`, which raises `ConfigError` naming the offending field.

The dataclass defaults are the *compatible* ones: a stored config or checkpoint written before a field existed
reads back as the run it was (DCGAN, no ADA, ...). The product's defaults for a new run, sized for the device
and a time budget, come from `generation.gan.budget.plan_training`. `FIELD_DOCS` gives every field a one-line
meaning; `field_specs()` adds type, default, bounds and choices (the API documents the config from it).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from generation.gan.noise import MAX_SEED

RESOLUTIONS = (32, 64, 128, 256, 512)
ARCHS = ("dcgan", "fastgan")
LOSSES = ("bce", "hinge", "rpgan")
AUGMENT_OPS = ("color", "translation", "cutout")


class ConfigError(ValueError):
    """A config value is unknown, of the wrong type or out of bounds; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, kw_only=True)
class GANConfig:
    # model
    arch: str = "dcgan"  # "dcgan" or "fastgan" (generation.gan.fastgan)
    resolution: int = 64
    latent_dim: int = 128
    g_channels: int = 64  # width of G's last hidden layer; doubles toward the 4x4 input
    d_channels: int = 64  # width of D's first layer; doubles toward the 4x4 output
    conditional: bool = False
    num_classes: int = 1  # must be 1 unless conditional
    spectral_norm: bool = False  # on D; replaces D's batch norm when on
    mbstd_group: int = 0  # D's minibatch-stddev layer: group size (4 in StyleGAN2); 0 = off
    periodic_channels: int = 0  # dcgan: PSGAN's plane-wave maps fed to every up stage of G; 0 = off
    # objective and optimisation
    loss: str = "bce"  # "bce" (non-saturating), "hinge" or "rpgan" (relativistic pairing, R3GAN)
    r1_gamma: float = 0.0  # weight of the R1 (real) and R2 (fake) gradient penalties on D; 0 = off
    reg_every: int = 4  # lazy regularisation: the penalties run every this many D steps, scaled up to match
    recon_weight: float = 0.0  # fastgan: weight of D's reconstruction self-supervision; 0 = off
    mode_seeking: float = 0.0  # weight of MSGAN's mode-seeking term on G (Mao et al., 2019); 0 = off
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 64
    ema_decay: float = 0.999
    ema_rampup: float = 0.02  # the EMA's half-life is at most this fraction of the steps so far
    augment_policy: str = "color,translation,cutout"  # DiffAugment ops, comma-separated; "" disables it
    mirror: bool = True  # random horizontal flips of real images
    ada: bool = False  # adaptive augmentation: each op applies with probability p driven by D's overfitting
    ada_target: float = 0.6  # target of r_t = E[sign(D(real))]; p rises while r_t is above it
    ada_interval: int = 4  # steps between adjustments of p
    ada_speed_images: int = 20_000  # images over which p can move from 0 to 1
    cond_transition_steps: int = 0  # conditional: conditioning fades in over the first this many steps
    # device
    mixed_precision: bool = True  # bf16 autocast on CUDA (ignored on the CPU)
    compile: bool = False  # torch.compile G and D (CUDA hosts; minutes of compile time on a CPU)
    # schedule and bookkeeping
    steps: int = 10_000
    budget_minutes: float = 0.0  # stop (with a checkpoint) after this much training time; 0 = steps decide
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
        "mbstd_group": (0, 64),
        "periodic_channels": (0, 64),
        "r1_gamma": (0.0, 1000.0),
        "reg_every": (1, 64),
        "recon_weight": (0.0, 100.0),
        "mode_seeking": (0.0, 100.0),
        "ada_target": (0.0, 1.0),
        "ada_interval": (1, 10_000),
        "ada_speed_images": (100, 10_000_000),
        "cond_transition_steps": (0, 1_000_000),
        "budget_minutes": (0.0, 10_080.0),
        "lr_g": (1e-6, 1e-1),
        "lr_d": (1e-6, 1e-1),
        "beta1": (0.0, 0.999),
        "beta2": (0.0, 0.9999),
        "batch_size": (1, 512),
        "ema_decay": (0.0, 0.99999),
        "ema_rampup": (0.0, 1.0),
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
        if self.arch not in ARCHS:
            raise ConfigError("arch", f"must be one of {list(ARCHS)}, got {self.arch!r}")
        if self.recon_weight and self.arch != "fastgan":
            raise ConfigError("recon_weight", "reconstruction self-supervision needs arch 'fastgan'")
        if self.periodic_channels and self.arch != "dcgan":
            raise ConfigError("periodic_channels", "periodic maps are a dcgan generator option")
        if self.mbstd_group == 1:
            raise ConfigError("mbstd_group", "must be 0 (off) or a group of at least 2 images, got 1")
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

    def conditioning_at(self, step: int) -> float:
        """How much of the class conditioning is on at `step`: 0 -> 1 linearly over cond_transition_steps."""
        transition = self.cond_transition_steps
        return 1.0 if transition <= 0 else min(1.0, step / transition)

    @property
    def budget_seconds(self) -> float | None:
        return self.budget_minutes * 60 if self.budget_minutes else None

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


FIELD_DOCS: dict[str, str] = {
    "arch": "network family: 'dcgan' (Radford et al. 2015) or 'fastgan' (skip-layer excitation G, D with a "
    "reconstruction decoder; Liu et al. 2021)",
    "resolution": "image side in pixels (square), a power of two",
    "latent_dim": "size of the latent vector z each image is drawn from",
    "g_channels": "generator width at the image (doubles toward 4x4, capped)",
    "d_channels": "discriminator width at the image (doubles toward 4x4, capped)",
    "conditional": "class-conditional model: class subfolders become labels a buyer can ask for",
    "num_classes": "number of classes of a conditional model; 1 when unconditional",
    "spectral_norm": "spectral normalisation of D's layers (dcgan; replaces D's batch norm)",
    "mbstd_group": "minibatch standard deviation in D (Karras et al. 2018): the feature spread over groups of this "
    "many images becomes one extra map before D's last layer, so D can see a batch of too-alike fakes; 0 turns "
    "it off (StyleGAN2 uses 4)",
    "periodic_channels": "dcgan: this many plane waves (PSGAN, Bergmann et al. 2017), their directions, "
    "frequencies and phases a learned function of the latent, drawn as extra maps into every up stage of G so "
    "periodic patterns (stripes, checks, weaves) have a global phase to follow; 0 turns it off",
    "loss": "adversarial objective: 'bce' (non-saturating), 'hinge' or 'rpgan' (relativistic pairing)",
    "r1_gamma": "weight of the R1 (on reals) and R2 (on fakes) gradient penalties on D; 0 turns them off",
    "reg_every": "the gradient penalties run every this many steps, scaled to the same strength",
    "recon_weight": "fastgan: weight of D's self-supervised reconstruction of real images; 0 turns it off",
    "mode_seeking": "weight of the mode-seeking term on G (MSGAN, Mao et al. 2019): the batch's halves are paired "
    "(same class when conditional) and G is penalised by 1 / (image distance / latent distance), so two latents "
    "cannot give one image; 0 turns it off",
    "lr_g": "Adam learning rate of the generator",
    "lr_d": "Adam learning rate of the discriminator",
    "beta1": "Adam beta1 of both networks",
    "beta2": "Adam beta2 of both networks",
    "batch_size": "images per training step",
    "ema_decay": "decay of the generator's exponential moving average (the exported model)",
    "ema_rampup": "the EMA's half-life grows with the run: at most this fraction of the steps so far (StyleGAN2-ADA's "
    "ramp-up, 0.05 there), capped by ema_decay; 0 = ema_decay from the start",
    "augment_policy": "DiffAugment ops applied to every image D sees, comma-separated; empty disables it",
    "mirror": "random horizontal flips of the real images",
    "ada": "adaptive augmentation: each op applies with a probability p that follows D's overfitting signal",
    "ada_target": "ADA target for r_t = E[sign(D(real))]; p rises while r_t is above it (0.6 in StyleGAN2-ADA)",
    "ada_interval": "steps between two adjustments of the ADA probability p",
    "ada_speed_images": "ADA: images shown over which p can move all the way from 0 to 1",
    "cond_transition_steps": "conditional: class conditioning fades in linearly over the first this many "
    "steps (against mode collapse on small sets; Shahbazi et al. 2022); 0 = conditional from the start",
    "mixed_precision": "bf16 autocast on CUDA devices; ignored on the CPU",
    "compile": "torch.compile the networks (worth it on CUDA hosts for long runs)",
    "steps": "training steps (each one D and one G update)",
    "budget_minutes": "stop training after this many minutes (with a checkpoint, then export); 0 = no limit",
    "seed": "seed of every random draw of the run: same seed, data and config -> same model",
    "log_every": "steps between two progress reports",
    "checkpoint_every": "steps between two checkpoints",
    "sample_every": "steps between two sample grids",
    "sample_count": "images in the fixed-seed sample grid",
}

CHOICES: dict[str, tuple[object, ...]] = {"arch": ARCHS, "resolution": RESOLUTIONS, "loss": LOSSES}


def field_specs() -> dict[str, dict[str, Any]]:
    """Every config field: type, default, bounds (minimum/maximum) or choices, and its one-line meaning."""
    specs: dict[str, dict[str, Any]] = {}
    for field in dataclasses.fields(GANConfig):
        spec: dict[str, Any] = {"type": field.type, "default": field.default, "doc": FIELD_DOCS[field.name]}
        if field.name in GANConfig.BOUNDS:
            spec["minimum"], spec["maximum"] = GANConfig.BOUNDS[field.name]
        if field.name in CHOICES:
            spec["choices"] = list(CHOICES[field.name])
        if field.name == "augment_policy":
            spec["choices_each"] = list(AUGMENT_OPS)
        specs[field.name] = spec
    return specs


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
