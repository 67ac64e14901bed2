"""The generation app's settings, read at call time with defaults (so nothing has to be set to run)."""

from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Uploads: site-wide caps (a plan may cap lower through the meter's Limits).
    "GENERATION_DATASET_MAX_IMAGES": 5000,
    "GENERATION_DATASET_MAX_BYTES": 200 * 1024 * 1024,
    "GENERATION_IMAGE_MAX_BYTES": 25 * 1024 * 1024,
    "GENERATION_IMAGE_MAX_PIXELS": 40_000_000,
    # What one upload may decode in all (pixels summed over its images, read from each header before decoding):
    # a zip of small files that each pass the per-image cap cannot make the web worker decode without end.
    "GENERATION_DATASET_MAX_DECODED_PIXELS": 250_000_000,
    # Training: where checkpoints, samples and loss curves live (None: MEDIA_ROOT/../runs); torch device.
    "GENERATION_RUNS_ROOT": None,
    "GENERATION_TRAINING_DEVICE": None,
    # Processes one training run uses (torchrun + DistributedDataParallel: gloo on the CPU, NCCL with one GPU
    # per process); 1 trains in the worker's own process. The config's batch is the global one, split evenly.
    "GENERATION_TRAIN_PROCS": 1,
    # Plans from a timed probe of the networks on this process's device (True) or the engine's table (False:
    # fast, and right when the web process is not on the training machine).
    "GENERATION_PLAN_MEASURE": False,
    "GENERATION_METRICS_MAX_IMAGES": 2000,
    # Generation jobs.
    "GENERATION_MAX_COUNT": 500,
    "GENERATION_BATCH_SIZE": 64,
    "GENERATION_MICROBATCH_MAX_IMAGES": 64,
    "GENERATION_MICROBATCH_MAX_JOBS": 16,
    "GENERATION_PREVIEW_SIZE": 256,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def runs_root() -> Path:
    configured = setting("GENERATION_RUNS_ROOT")
    return Path(configured) if configured else Path(settings.MEDIA_ROOT).resolve().parent / "runs"


def run_directory(public_id: Any) -> Path:
    return runs_root() / str(public_id)


def run_storage_name(public_id: Any, relative: str) -> str:
    """Where a run's file (checkpoint, sample grid, loss curve) is kept in storage when media is in a bucket."""
    return f"generation/runs/{public_id}/{relative}"
