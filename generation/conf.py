"""The generation app's settings (declared once: core/conf.py), and where a training run's files live."""

from pathlib import Path
from typing import Any

from django.conf import settings

from core.conf import FLAG, INTEGER, LIST, TEXT, Setting, Settings, blank_is_default

SETTINGS = Settings(
    Setting(
        "GENERATION_PROVIDERS",
        LIST,
        ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
        "ONNX Runtime providers in order of preference",
    ),
    Setting("GENERATION_REQUIRE_GPU", FLAG, False, "refuse to generate when ONNX Runtime would fall back to the CPU"),
    Setting(
        "GENERATION_INCEPTION_WEIGHTS",
        TEXT,
        "",
        "path of a local InceptionV3 TorchScript file for FID/KID (never downloaded)",
    ),
    Setting(
        "GENERATION_METER",
        TEXT,
        "marketplace.subscriptions.metering.SubscriptionMeter",
        'who answers "may this user spend N generations / a training run?" (generation/metering.py)',
        shown="subscriptions' meter",
    ),
    Setting(
        "GENERATION_LINEAGE_RECORDER",
        TEXT,
        "provenance.lineage.ProvenanceLineage",
        "who records finalised datasets and exported model versions as provenance records (empty: nobody; "
        "generation/lineage.py)",
    ),
    # Uploads: site-wide caps (a plan may cap lower through the meter's Limits).
    Setting("GENERATION_DATASET_MAX_IMAGES", INTEGER, 5000, "images per dataset (a plan may cap lower)"),
    Setting(
        "GENERATION_DATASET_MAX_BYTES",
        INTEGER,
        200 * 1024 * 1024,
        "bytes per dataset upload (a plan may cap lower)",
        shown="200 MiB",
    ),
    Setting("GENERATION_IMAGE_MAX_BYTES", INTEGER, 25 * 1024 * 1024, "bytes per uploaded image", shown="25 MiB"),
    Setting("GENERATION_IMAGE_MAX_PIXELS", INTEGER, 40_000_000, "pixels per uploaded image (decompression-bomb guard)"),
    # A zip of small files that each pass the per-image cap cannot make the web worker decode without end.
    Setting(
        "GENERATION_DATASET_MAX_DECODED_PIXELS",
        INTEGER,
        250_000_000,
        "pixels one dataset upload may decode in all (summed from the image headers in the request: 413 "
        "`too_many_pixels` past it; the decoding job checks it again before each decode)",
    ),
    Setting(
        "GENERATION_RUNS_ROOT",
        blank_is_default(TEXT),
        None,
        "checkpoints, sample grids, loss curves (a worker's own; with `s3` the latest checkpoint, grid and curve "
        "are also stored in the bucket)",
        shown="`$ATELIER_VAR_DIR/runs` (beside `MEDIA_ROOT`)",
    ),
    Setting(
        "GENERATION_TRAINING_DEVICE",
        blank_is_default(TEXT),
        None,
        "torch device for training (runs are planned for it)",
        shown="`cuda` when available, else `cpu`",
    ),
    Setting(
        "GENERATION_TRAIN_PROCS",
        INTEGER,
        1,
        "processes per training run: above 1 the training worker runs it under `torchrun` "
        "(DistributedDataParallel: gloo on the CPU, NCCL with one GPU per process; the config's batch is the "
        "global one and must split evenly; fine-tunes still train in one process)",
    ),
    Setting(
        "GENERATION_PLAN_MEASURE",
        FLAG,
        False,
        "plan training from a timed probe of the networks in the web process (on: only where it runs on the "
        "training device) instead of the engine's measured table",
    ),
    Setting("GENERATION_METRICS_MAX_IMAGES", INTEGER, 2000, "images used for FID/KID"),
    # Generation jobs.
    Setting("GENERATION_MAX_COUNT", INTEGER, 500, "images per generation job"),
    Setting("GENERATION_BATCH_SIZE", INTEGER, 64, "rows per ONNX Runtime call"),
    Setting(
        "GENERATION_MICROBATCH_MAX_IMAGES", INTEGER, 64, "images of small queued jobs for one model served in one batch"
    ),
    Setting("GENERATION_MICROBATCH_MAX_JOBS", INTEGER, 16, "small queued jobs for one model served in one batch"),
    Setting("GENERATION_PREVIEW_SIZE", INTEGER, 256, "preview side, in pixels"),
    Setting(
        "GENERATION_SESSION_CACHE_SIZE",
        INTEGER,
        8,
        "loaded ONNX Runtime sessions a process keeps (least recently used go first)",
        env=None,
    ),
)
get = SETTINGS.get


def runs_root() -> Path:
    configured = get("GENERATION_RUNS_ROOT")
    return Path(configured) if configured else Path(settings.MEDIA_ROOT).resolve().parent / "runs"


def run_directory(public_id: Any) -> Path:
    return runs_root() / str(public_id)


def run_storage_name(public_id: Any, relative: str) -> str:
    """Where a run's file (checkpoint, sample grid, loss curve) is kept in storage when media is in a bucket."""
    return f"generation/runs/{public_id}/{relative}"
