"""Budgets, not steps: a preset and a time budget become a full `GANConfig` sized for the device.

`plan_training` picks architecture, resolution, widths, batch, learning rates and a step count from what the
device really trains per second: a short timed probe of the real networks on synthetic images (a warm-up step,
then timed steps), cached per (device, shape) for the life of the process. `measure=False` uses `DEFAULT_IPS`
instead (images/s measured on this project's reference machines), so tests and request handlers stay fast.

A plan ends a run at its budget (`budget_minutes`, enforced by the trainer at a step boundary, with a
checkpoint) or at its planned steps if the device turns out faster than estimated, whichever comes first.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import torch

from generation.gan.config import ConfigError as ConfigError  # re-exported: callers catch it from here
from generation.gan.config import GANConfig
from generation.gan.periodicity import is_periodic

PRESETS = ("quick", "standard", "best")
DEVICE_KINDS = ("cpu", "cuda")

# minutes of training per preset and device kind
PRESET_MINUTES: dict[str, dict[str, float]] = {
    "cpu": {"quick": 3.0, "standard": 10.0, "best": 30.0},
    "cuda": {"quick": 5.0, "standard": 20.0, "best": 60.0},
}
# image side per preset and device kind (a buyer should receive >= 128 px; a CPU buys that only with time)
PRESET_RESOLUTION: dict[str, dict[str, int]] = {
    "cpu": {"quick": 32, "standard": 64, "best": 128},
    "cuda": {"quick": 128, "standard": 256, "best": 256},
}
MIN_STEPS = 200  # below this no architecture learns more than colour blobs: refuse instead of pretending
MAX_MINUTES = GANConfig.BOUNDS["budget_minutes"][1]
PROBE_STEPS = 3


@dataclass(frozen=True)
class Shape:
    """What the throughput of a run depends on."""

    arch: str
    resolution: int
    g_channels: int
    d_channels: int
    batch_size: int


def default_arch(*, kind: str, resolution: int) -> str:
    """The architecture a new run gets: FastGAN, except where DCGAN wins at equal minutes (a CPU at <= 64 px).

    Measured with bench.quality (2-minute runs on this 2-core CPU, see DESIGN.md): at 32 and 64 px FastGAN
    costs ~4x DCGAN's time per image and a couple of CPU minutes buy it 80-350 steps, too few for its larger
    networks to leave the noise phase; DCGAN (with the same hinge loss, ADA and EMA) trains several times more
    images in the same minutes and scores lower KID."""
    return "dcgan" if kind == "cpu" and resolution <= 64 else "fastgan"


def base_shape(*, kind: str, resolution: int, arch: str | None = None) -> Shape:
    """The architecture (default: `default_arch`'s), widths and batch a new run gets at this resolution."""
    arch = arch or default_arch(kind=kind, resolution=resolution)
    if kind == "cuda":
        width = {32: 64, 64: 64, 128: 32, 256: 32, 512: 16}[resolution]
        return Shape(arch, resolution, width, width, 32)
    if arch == "dcgan":
        width, batch = DCGAN_CPU_SHAPE[resolution]
        return Shape(arch, resolution, width, width, batch)
    width = {32: 32, 64: 16, 128: 8, 256: 8, 512: 4}[resolution]
    return Shape(arch, resolution, width, width, 16)


# plane-wave maps a periodic set's DCGAN gets (PSGAN's periodic noise): on textiles@32, one seed, KID 0.53 with
# 8 and 0.56 with 16 against 0.95-1.25 for six other variants; non-periodic sets train worse with them
PERIODIC_CHANNELS = 8

# MSGAN's weight (Mao et al. 2019 use 1) on conditional DCGAN plans: a class-conditional G on a small set learns
# to ignore z (glyphs@64 drew one image for every class and latent); one seed each, KID / diversity ratio
# glyphs@64 1.08 / 0.15 -> 0.22 / 0.90, glyphs@32 0.89 / 0.69 -> 0.14 / 0.92. Not on unconditional plans:
# landscapes@32 0.66 -> 0.78, periodic textiles@32 0.40 -> 0.78 (DESIGN.md)
CONDITIONAL_MODE_SEEKING = 1.0

# DCGAN on a CPU: (width, batch) per resolution; chosen on bench.quality (DESIGN.md, "GAN engine")
DCGAN_CPU_SHAPE: dict[int, tuple[int, int]] = {32: (32, 16), 64: (16, 16), 128: (8, 16), 256: (8, 16), 512: (4, 16)}


def _table_shape(kind: str, arch: str, resolution: int) -> Shape:
    """The widths and batch DEFAULT_IPS was measured at (the FastGAN base table, for both families)."""
    if kind == "cuda":
        width = {32: 64, 64: 64, 128: 32, 256: 32, 512: 16}[resolution]
        return Shape(arch, resolution, width, width, 32)
    width = {32: 32, 64: 16, 128: 8, 256: 8, 512: 4}[resolution]
    return Shape(arch, resolution, width, width, 16)


# images/s of a full training step (D and G), measured with the probe below on the reference machines:
# cpu = this project's 2-core VM (shared, so numbers are conservative); cuda = unmeasured guesses until
# bench/gpu_check.py has run on a GPU host.
DEFAULT_IPS: dict[tuple[str, str, int], float] = {
    ("cpu", "fastgan", 32): 120.0,
    ("cpu", "fastgan", 64): 45.0,
    ("cpu", "fastgan", 128): 14.0,
    ("cpu", "fastgan", 256): 3.5,
    ("cpu", "fastgan", 512): 0.9,
    ("cpu", "dcgan", 32): 260.0,
    ("cpu", "dcgan", 64): 60.0,
    ("cpu", "dcgan", 128): 14.0,
    ("cpu", "dcgan", 256): 3.5,
    ("cpu", "dcgan", 512): 0.9,
    ("cuda", "fastgan", 32): 6000.0,
    ("cuda", "fastgan", 64): 4000.0,
    ("cuda", "fastgan", 128): 2000.0,
    ("cuda", "fastgan", 256): 800.0,
    ("cuda", "fastgan", 512): 250.0,
    ("cuda", "dcgan", 32): 10000.0,
    ("cuda", "dcgan", 64): 6000.0,
    ("cuda", "dcgan", 128): 2500.0,
    ("cuda", "dcgan", 256): 800.0,
    ("cuda", "dcgan", 512): 200.0,
}
# the widths DEFAULT_IPS was measured at: other widths scale it by the ratio of conv work (~width^2)
_REFERENCE_SHAPES = {(kind, arch, res): _table_shape(kind, arch, res) for kind, arch, res in DEFAULT_IPS}

MAX_WIDTH_SPEEDUP = 4.0
_cache_lock = threading.Lock()
_measured: dict[tuple[str, Shape, bool], float] = {}


@dataclass(frozen=True)
class TrainingPlan:
    config: GANConfig
    device: str
    images_per_s: float
    steps: int
    minutes: float
    summary: str  # "about 85 images/s here, about 3,100 steps in 10 minutes"
    preset: str = "standard"
    measured: bool = False  # images_per_s from a probe on this device (else from DEFAULT_IPS)


def device_kind(device: str) -> str:
    kind = torch.device(device).type
    if kind not in DEVICE_KINDS:
        raise ConfigError("device", f"must be a cpu or cuda device, got {device!r}")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", f"{device!r} was asked for but no CUDA device is available here")
    return kind


def plan_training(
    *,
    preset: str = "standard",
    minutes: float | None = None,
    device: str = "cpu",
    dataset_size: int,
    num_classes: int = 1,
    overrides: dict[str, Any] | None = None,
    measure: bool = True,
    periodicity: float | None = None,
) -> TrainingPlan:
    """A config that fits `minutes` (default: the preset's) on `device`; ConfigError names what cannot fit.

    `overrides` are GANConfig fields that win over the plan (validated by GANConfig); when `steps` is among
    them it must fit the budget. `num_classes` is the dataset's: a conditional override gets it by default.
    `periodicity` is the dataset's `generation.gan.periodicity.dataset_periodicity`: a periodic set planned on
    DCGAN gets PERIODIC_CHANNELS periodic maps (unless the overrides say otherwise).
    """
    if preset not in PRESETS:
        raise ConfigError("preset", f"must be one of {list(PRESETS)}, got {preset!r}")
    if dataset_size < 1:
        raise ConfigError("dataset", "the dataset has no images")
    kind = device_kind(device)
    overrides = dict(overrides or {})
    if minutes is None:
        minutes = float(overrides.get("budget_minutes") or PRESET_MINUTES[kind][preset])
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not 0 < minutes <= MAX_MINUTES:
        raise ConfigError("budget_minutes", f"must be a number of minutes in (0, {MAX_MINUTES:g}], got {minutes!r}")
    minutes = float(minutes)

    resolution = overrides.get("resolution", PRESET_RESOLUTION[kind][preset])
    arch = overrides.get("arch")
    shape = base_shape(kind=kind, resolution=resolution, arch=arch) if resolution in _widths_known() else None
    planned: dict[str, Any] = {}
    if shape is not None:
        planned = {
            "arch": shape.arch,
            "resolution": shape.resolution,
            "g_channels": shape.g_channels,
            "d_channels": shape.d_channels,
            "batch_size": shape.batch_size,
        }
    planned.update(_recipe(arch or planned.get("arch", "fastgan")))
    if is_periodic(periodicity) and planned.get("arch", arch) == "dcgan":
        planned["periodic_channels"] = PERIODIC_CHANNELS
    if overrides.get("conditional") and "num_classes" not in overrides:
        planned["num_classes"] = num_classes
    # validate the merged config before the steps are known (steps checked against the budget below)
    config = GANConfig.from_overrides(planned, {**overrides, "budget_minutes": minutes})

    images_per_s, measured = _images_per_second(config, kind=kind, device=device, measure=measure)
    steps_fit = _steps_that_fit(config, images_per_s, minutes)
    if "steps" in overrides:
        steps = int(config.steps)
        needed = steps * config.batch_size / images_per_s / 60
        if needed > minutes * 1.05:
            raise ConfigError(
                "steps",
                f"{steps:,} steps of {config.batch_size} images need about {needed:.1f} minutes here "
                f"(about {images_per_s:.0f} images/s), more than the {minutes:g}-minute budget; "
                f"about {steps_fit:,} fit",
            )
    else:
        # a slow or busy device gets a smaller run that still learns, not a refusal: step the shape down
        for smaller in _smaller_configs(config, overrides, kind=kind):
            if steps_fit >= MIN_STEPS:
                break
            config = smaller
            images_per_s, measured = _images_per_second(config, kind=kind, device=device, measure=measure)
            steps_fit = _steps_that_fit(config, images_per_s, minutes)
        steps = steps_fit
    if steps < MIN_STEPS:
        field = _culprit(overrides)
        raise ConfigError(
            field,
            f"only about {steps_fit:,} steps fit {minutes:g} minutes here at {config.resolution}px "
            f"(about {images_per_s:.1f} images/s, batch {config.batch_size}, even at the smallest shape the "
            f"plan allows); at least {MIN_STEPS} are needed: lower the resolution, width or batch, or give it "
            "more minutes",
        )
    changes: dict[str, Any] = {"steps": steps}
    schedule = _schedule(steps)
    for name, value in schedule.items():
        if name not in overrides:
            changes[name] = value
    if config.conditional and "cond_transition_steps" not in overrides:
        changes["cond_transition_steps"] = steps // 3
    if config.conditional and config.arch == "dcgan" and "mode_seeking" not in overrides:
        changes["mode_seeking"] = CONDITIONAL_MODE_SEEKING
    config = config.replace(**changes)
    summary = (
        f"about {_count(images_per_s)} images/s here, about {steps:,} steps in {minutes:g} minutes "
        f"({config.arch} at {config.resolution}px, batch {config.batch_size}"
        f"{', periodic maps for a patterned set' if config.periodic_channels else ''})"
    )
    return TrainingPlan(
        config=config,
        device=device,
        images_per_s=images_per_s,
        steps=steps,
        minutes=minutes,
        summary=summary,
        preset=preset,
        measured=measured,
    )


def _steps_that_fit(config: GANConfig, images_per_s: float, minutes: float) -> int:
    return min(int(images_per_s * minutes * 60 / config.batch_size), int(GANConfig.BOUNDS["steps"][1]))


MIN_PLANNED_BATCH = 8
MIN_PLANNED_WIDTH = 8
MIN_PLANNED_RESOLUTION = 32


def _smaller_configs(config: GANConfig, overrides: dict[str, Any], *, kind: str):
    """Ever cheaper variants of `config`: at each resolution, halve the batch, then the widths; then go one
    resolution down (at its base shape) and do the same.

    Fields the user set are left alone. Batch goes first because it costs the least quality per saved second
    (more, noisier steps); resolution goes last because it is what the buyer receives.
    """
    while True:
        while "batch_size" not in overrides and config.batch_size // 2 >= MIN_PLANNED_BATCH:
            config = config.replace(batch_size=config.batch_size // 2)
            yield config
        widths = [name for name in ("g_channels", "d_channels") if name not in overrides]
        while widths and any(getattr(config, name) // 2 >= MIN_PLANNED_WIDTH for name in widths):
            config = config.replace(**{n: max(MIN_PLANNED_WIDTH, getattr(config, n) // 2) for n in widths})
            yield config
        if "resolution" in overrides or config.resolution // 2 < MIN_PLANNED_RESOLUTION:
            return
        shape = base_shape(kind=kind, resolution=config.resolution // 2, arch=config.arch)
        planned = {
            "resolution": shape.resolution,
            "g_channels": shape.g_channels,
            "d_channels": shape.d_channels,
            "batch_size": shape.batch_size,
        }
        config = config.replace(**{name: value for name, value in planned.items() if name not in overrides})
        yield config


def _widths_known() -> tuple[int, ...]:
    return (32, 64, 128, 256, 512)


def _recipe(arch: str) -> dict[str, Any]:
    """The objective and optimiser each architecture trains best with in few-minute few-shot runs."""
    if arch == "fastgan":
        return {
            "latent_dim": 128,
            "loss": "hinge",
            "recon_weight": 1.0,
            "lr_g": 2e-4,
            "lr_d": 2e-4,
            "beta1": 0.5,
            "beta2": 0.999,
            "ema_decay": 0.999,
            "augment_policy": "color,translation,cutout",
            "ada": True,
            "mirror": True,
        }
    # DCGAN plans are the CPU's few-minute runs (80-500 steps): DiffAugment on every image, as its authors
    # run it on 100-image sets, scored better there than ADA's p, which a D that beats a still-bad G drives
    # up from 0 without any overfitting to correct (bench.quality, DESIGN.md)
    return {
        "latent_dim": 128,
        "loss": "hinge",
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "beta1": 0.5,
        "beta2": 0.999,
        "ema_decay": 0.999,
        "augment_policy": "color,translation,cutout",
        "ada": False,
        "mirror": True,
    }


def _schedule(steps: int) -> dict[str, int]:
    """Checkpoints about every 5% of the run (a stop loses little), grids every 10%, reports every ~1%."""
    return {
        "checkpoint_every": max(1, steps // 20),
        "sample_every": max(1, steps // 10),
        "log_every": max(1, min(50, steps // 100)),
    }


def _culprit(overrides: dict[str, Any]) -> str:
    """The override most to blame when too few steps fit: the one a user would change first."""
    for name in ("resolution", "batch_size", "g_channels", "d_channels", "arch"):
        if name in overrides:
            return name
    return "budget_minutes"


def _count(value: float) -> str:
    if value >= 100:
        return f"{round(value, -1):,.0f}"
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.1f}"


def _shape_of(config: GANConfig) -> Shape:
    return Shape(config.arch, config.resolution, config.g_channels, config.d_channels, config.batch_size)


def _images_per_second(config: GANConfig, *, kind: str, device: str, measure: bool) -> tuple[float, bool]:
    shape = _shape_of(config)
    if measure:
        key = (device, shape, config.conditional)
        with _cache_lock:
            if key not in _measured:
                _measured[key] = probe_images_per_second(config, device=device)
            return _measured[key], True
    return table_images_per_second(config, kind=kind), False


def table_images_per_second(config: GANConfig, *, kind: str) -> float:
    """DEFAULT_IPS scaled from its reference widths and batch to this config's."""
    key = (kind, config.arch, config.resolution)
    reference = _REFERENCE_SHAPES[key]
    width_ratio = ((config.g_channels + config.d_channels) / (reference.g_channels + reference.d_channels)) ** 2
    # larger batches run a little faster per image on a CPU (fewer per-op overheads), not linearly
    batch_ratio = (config.batch_size / reference.batch_size) ** 0.15
    # conv work falls with width^2, per-op overheads do not: narrower networks gain at most MAX_WIDTH_SPEEDUP
    return DEFAULT_IPS[key] * batch_ratio * min(MAX_WIDTH_SPEEDUP, 1 / width_ratio)


def probe_images_per_second(config: GANConfig, *, device: str, seconds: float = 2.0) -> float:
    """Images/s of real training steps of `config`'s networks on synthetic images (nothing written)."""
    from generation.gan.data import PreparedDataset  # noqa: PLC0415 - import cycle: the trainer plans too
    from generation.gan.trainer import Trainer  # noqa: PLC0415

    images = torch.randint(
        0,
        256,
        (max(config.batch_size, 8), 3, config.resolution, config.resolution),
        dtype=torch.uint8,
        generator=torch.Generator().manual_seed(0),
    )
    classes = config.num_classes if config.conditional else 1
    dataset = PreparedDataset(
        images=images,
        labels=torch.arange(len(images)) % classes,
        class_names=tuple(f"class{i}" for i in range(classes)),
        dataset_hash="probe",
        resolution=config.resolution,
    )
    probe = config.replace(steps=1_000_000, budget_minutes=0.0, compile=False, cond_transition_steps=0)
    state = torch.random.get_rng_state()
    try:
        trainer = Trainer(config=probe, dataset=dataset, device=device)
        trainer.train_step()  # warm-up: allocations, kernel selection
        _synchronize(device)
        started, steps = time.perf_counter(), 0
        while steps < PROBE_STEPS or (time.perf_counter() - started < seconds and steps < 50):
            trainer.train_step()
            steps += 1
        _synchronize(device)
        elapsed = time.perf_counter() - started
    finally:
        torch.random.set_rng_state(state)  # the probe must not shift the seeded run that follows
    return steps * config.batch_size / max(elapsed, 1e-9) * (1.0 if math.isfinite(elapsed) else 0.0)


def _synchronize(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
