"""Budgets and the training cost ceiling: what a training request becomes before anything is written.

A request names a preset and/or a time budget (the engine's `plan_training` sizes the run for the device the
worker trains on), or gives an explicit config (its speed is still estimated for that device). Either way the
result is checked against the owner's plan, through the metering hook (generation never imports the plans):
`max_resolution`, `max_training_work` (steps x batch x resolution^2 x the wider network's channels) and
`max_training_minutes`. A capped plan always gets a training budget, and the worker enforces a hard stop a
margin past it (`time_limit_seconds`), so no run holds the training queue past what its plan pays for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from core.errors import InvalidInput, PaymentRequired
from generation import conf
from generation.errors import GenerationError
from generation.gan.budget import PRESETS, TrainingPlan, device_kind, plan_training, table_images_per_second
from generation.gan.budget import probe_images_per_second as _probe
from generation.gan.config import ConfigError, GANConfig
from generation.metering import Limits, get_meter
from generation.models import Dataset
from generation.services.datasets import dataset_class_names, dataset_periodicity

# the worker's hard stop is the training budget plus this much (checkpoint, sample grid and a slow step)
TIME_LIMIT_MARGIN_FRACTION = 0.10
TIME_LIMIT_MARGIN_MIN_SECONDS = 30.0
# the overrides a user changes first when a run is too big, in that order (names the field of the error)
_WORK_FIELDS = ("steps", "resolution", "batch_size", "g_channels", "d_channels")


@dataclass(frozen=True)
class PlannedRun:
    config: GANConfig
    plan: dict[str, Any]  # stored on the run and shown by the API (see `_plan_record`)
    time_limit_seconds: float | None


def training_device() -> str:
    """The torch device the training worker runs on (GENERATION_TRAINING_DEVICE, else CUDA when present)."""
    configured = conf.get("GENERATION_TRAINING_DEVICE")
    if configured:
        return str(configured)
    return "cuda" if torch.cuda.is_available() else "cpu"


def training_work(config: GANConfig) -> int:
    """The cost of a run in one number: steps x batch x resolution^2 x the wider network's base channels.

    Convolution work grows with the pixels and (about) the square of width; one power of width keeps the
    number readable and still makes a 512-channel request cost 16x a 32-channel one."""
    return config.steps * config.batch_size * config.resolution**2 * max(config.g_channels, config.d_channels)


def training_plan_make(
    *,
    owner: Any,
    dataset: Dataset,
    preset: str | None = None,
    budget_minutes: float | None = None,
    overrides: dict[str, Any] | None = None,
) -> PlannedRun:
    """The config, the estimate and the hard time limit of a run; InvalidInput (400) names what cannot fit."""
    overrides = dict(overrides or {})
    minutes = overrides.get("budget_minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, (int, float))):
        raise InvalidInput(
            f"config.budget_minutes: must be a number of minutes, got {minutes!r}.", field="config.budget_minutes"
        )
    classes = len(dataset_class_names(dataset=dataset))
    if overrides.get("conditional") is True and "num_classes" not in overrides:
        overrides["num_classes"] = classes
    device = training_device()
    limits = get_meter().limits(user=owner)
    planned = preset is not None or budget_minutes is not None or bool(overrides.get("budget_minutes")) or not overrides
    if planned:
        if budget_minutes is None and not overrides.get("budget_minutes") and limits.max_training_minutes:
            budget_minutes = _default_minutes(preset=preset, device=device, cap=limits.max_training_minutes)
        plan = _planned(
            preset=preset or "standard",
            minutes=budget_minutes,
            device=device,
            dataset=dataset,
            classes=classes,
            overrides=overrides,
            top_level_minutes=budget_minutes is not None,
        )
    else:
        plan = _explicit(overrides=overrides, device=device)
    config = plan.config
    if config.conditional and config.num_classes != classes:
        raise InvalidInput(
            f"config.num_classes: the dataset has {classes} classes, not {config.num_classes}.",
            field="config.num_classes",
        )
    _check_ceiling(config=config, plan=plan, limits=limits, overrides=overrides)
    if limits.max_training_minutes is not None and not config.budget_minutes:
        config = config.replace(budget_minutes=float(limits.max_training_minutes))  # the trainer stops there
    budget = config.budget_seconds
    time_limit = (
        None if budget is None else budget + max(TIME_LIMIT_MARGIN_MIN_SECONDS, budget * TIME_LIMIT_MARGIN_FRACTION)
    )
    return PlannedRun(
        config=config, plan=_plan_record(plan=plan, config=config, planned=planned), time_limit_seconds=time_limit
    )


def _default_minutes(*, preset: str | None, device: str, cap: float) -> float | None:
    from generation.gan.budget import PRESET_MINUTES  # noqa: PLC0415 - only needed for capped plans

    try:
        minutes = PRESET_MINUTES[device_kind(device)][preset or "standard"]
    except (ConfigError, KeyError):
        return None  # plan_training names the bad preset or device
    return min(minutes, float(cap))


def _planned(
    *,
    preset: str,
    minutes: float | None,
    device: str,
    dataset: Dataset,
    classes: int,
    overrides: dict[str, Any],
    top_level_minutes: bool,
) -> TrainingPlan:
    try:
        return plan_training(
            preset=preset,
            minutes=minutes,
            device=device,
            dataset_size=dataset.image_count,
            num_classes=max(classes, 1),
            overrides=overrides,
            measure=bool(conf.get("GENERATION_PLAN_MEASURE")),
            periodicity=dataset_periodicity(dataset=dataset),
        )
    except ConfigError as exc:
        raise _field_error(exc, top_level_minutes=top_level_minutes) from None


def _explicit(*, overrides: dict[str, Any], device: str) -> TrainingPlan:
    """An explicit config on the engine's defaults, with its speed estimated for `device`."""
    try:
        config = GANConfig.from_overrides(None, overrides)
        kind = device_kind(device)
    except ConfigError as exc:
        raise _field_error(exc, top_level_minutes=False) from None
    measured = bool(conf.get("GENERATION_PLAN_MEASURE"))
    ips = _probe(config, device=device) if measured else table_images_per_second(config, kind=kind)
    minutes = config.steps * config.batch_size / max(ips, 1e-9) / 60
    summary = (
        f"about {ips:,.0f} images/s here, about {config.steps:,} steps in {minutes:.1f} minutes "
        f"({config.arch} at {config.resolution}px, batch {config.batch_size})"
    )
    return TrainingPlan(
        config=config,
        device=device,
        images_per_s=ips,
        steps=config.steps,
        minutes=minutes,
        summary=summary,
        preset="",
        measured=measured,
    )


def _field_error(exc: ConfigError, *, top_level_minutes: bool) -> InvalidInput:
    if exc.field in ("preset", "dataset") or (exc.field == "budget_minutes" and top_level_minutes):
        name = exc.field
    elif exc.field == "device":
        name = "config"  # the server's device cannot train this: nothing the client can name better
    else:
        name = "config" if exc.field == "config" else f"config.{exc.field}"
    return InvalidInput(f"{name}: {exc.message}", field=name)


def _check_ceiling(*, config: GANConfig, plan: TrainingPlan, limits: Limits, overrides: dict[str, Any]) -> None:
    if limits.max_resolution is not None and config.resolution > limits.max_resolution:
        detail = f"config.resolution: your plan allows up to {limits.max_resolution}px, not {config.resolution}px."
        raise PaymentRequired(
            detail,
            code=GenerationError.PLAN_LIMIT_EXCEEDED,
            limit_name="max_resolution",
            limit=limits.max_resolution,
            requested=config.resolution,
            errors={"config.resolution": [detail]},
        )
    work = training_work(config)
    if limits.max_training_work is not None and work > limits.max_training_work:
        name = next((f"config.{field}" for field in _WORK_FIELDS if field in overrides), "config.steps")
        width = max(config.g_channels, config.d_channels)
        detail = (
            f"{name}: this run's work is {work:,} (steps x batch x resolution^2 x channels = "
            f"{config.steps:,} x {config.batch_size} x {config.resolution}^2 x {width}), more than your "
            f"plan's limit of {limits.max_training_work:,} per run: lower the steps, batch, resolution or "
            "width, or upgrade your plan."
        )
        raise InvalidInput(
            detail,
            code=GenerationError.TRAINING_LIMIT_EXCEEDED,
            limit_name="max_training_work",
            limit=limits.max_training_work,
            requested=work,
            errors={name: [detail]},
        )
    cap = limits.max_training_minutes
    asked = config.budget_minutes or plan.minutes
    if cap is not None and asked > cap * 1.0001:
        name = "budget_minutes" if config.budget_minutes else "config.steps"
        what = (
            f"a {asked:g}-minute budget"
            if config.budget_minutes
            else f"about {asked:,.1f} minutes of training here ({plan.summary})"
        )
        detail = (
            f"{name}: this run asks for {what}, more than your plan's limit of {cap:g} minutes per run: "
            "give it fewer minutes or steps, or upgrade your plan."
        )
        raise InvalidInput(
            detail,
            code=GenerationError.TRAINING_LIMIT_EXCEEDED,
            limit_name="max_training_minutes",
            limit=cap,
            requested=round(asked, 2),
            errors={name: [detail]},
        )


def _plan_record(*, plan: TrainingPlan, config: GANConfig, planned: bool) -> dict[str, Any]:
    return {
        "mode": "budget" if planned else "explicit",
        "preset": plan.preset or None,
        "device": plan.device,
        "images_per_second": round(float(plan.images_per_s), 2),
        "measured": plan.measured,
        "steps": config.steps,
        "minutes": round(float(config.budget_minutes or plan.minutes), 3),
        "estimated_minutes": round(float(config.steps * config.batch_size / max(plan.images_per_s, 1e-9) / 60), 3),
        "summary": plan.summary,
        "periodic_maps": config.periodic_channels,
        "work": training_work(config),
    }


__all__ = ["PRESETS", "PlannedRun", "training_device", "training_plan_make", "training_work"]
