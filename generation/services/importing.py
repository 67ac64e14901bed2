"""Register a model this project's trainer exported elsewhere (the demo's shipped model) as a model version.

The model keeps its lineage: a finished training run records the config, step and dataset hash the ONNX file
carries, on the dataset it was trained on (which must hash the same), and `plan.imported` says where it came
from. Nothing is charged and no worker trains: the run is finished when it is created.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from core.jobs import JobState
from generation import lineage
from generation.gan import export as gan_export
from generation.models import Dataset, ModelVersion, TrainingRun


class ModelImportError(ValueError):
    """The file is not an exported Atelier generator, or not one trained on this dataset."""


def model_version_import(
    *, owner: Any, dataset: Dataset, onnx_path: Path, source: dict[str, Any], name: str | None = None
) -> ModelVersion:
    """A model version for `onnx_path`, trained (as it says) on `dataset`; `source` is recorded as its origin
    (`source["parity_max_abs_diff"]`: the parity check its export passed)."""
    try:
        metadata = gan_export.read_model_metadata(onnx_path)
    except (ValueError, KeyError, OSError) as exc:
        raise ModelImportError(f"{onnx_path.name} is not an exported Atelier generator: {exc}") from None
    if metadata["dataset_hash"] != dataset.dataset_hash:
        raise ModelImportError(
            f"{onnx_path.name} was trained on dataset {metadata['dataset_hash'][:12]}…, "
            f"not on {dataset.name!r} ({dataset.dataset_hash[:12]}…)"
        )
    payload = onnx_path.read_bytes()
    config, step, now = metadata["config"], metadata["step"], timezone.now()
    with transaction.atomic():
        run = TrainingRun.objects.create(
            owner=owner,
            dataset=dataset,
            config=config,
            step=step,
            total_steps=step,
            state=JobState.SUCCEEDED,
            queued_at=now,
            started_at=now,
            finished_at=now,
            settled_at=now,
            stop_reason="completed",
            plan={"imported": source},
        )
        stored = default_storage.save(f"generation/models/{run.public_id}.onnx", ContentFile(payload))
        try:
            version = ModelVersion.objects.create(
                owner=owner,
                training_run=run,
                name=name or f"{dataset.name} · step {step}",
                onnx_file=stored,
                onnx_sha256=hashlib.sha256(payload).hexdigest(),
                onnx_size=len(payload),
                parity_passed=True,
                parity_max_abs_diff=float(source.get("parity_max_abs_diff", 0.0)),
                parity_tolerance=gan_export.PARITY_TOLERANCE,
                metrics={"available": False, "reason": "imported"},
                dataset_hash=metadata["dataset_hash"],
                config=config,
                step=step,
                latent_dim=metadata["latent_dim"],
                resolution=metadata["resolution"],
                conditional=metadata["conditional"],
                num_classes=metadata["num_classes"],
                class_names=list(metadata["class_names"]),
            )
            lineage.model_version_recorded(version=version, dataset=dataset)
        except BaseException:
            default_storage.delete(stored)
            raise
        return version
