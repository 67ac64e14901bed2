"""Fine-tuning: a new dataset version (the parent dataset's images plus the model version's kept images,
with lineage to both) and a training run initialised from the parent model version's checkpoint.

Rejected and uncurated images never enter a dataset; the parent dataset, run, checkpoint and model are only
read, never written (the fine-tune trains in its own run directory).
"""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from core.errors import InvalidInput, NotFound
from core.media import media_is_remote
from generation import lineage
from generation.conf import run_directory
from generation.errors import GenerationError
from generation.gan.config import GANConfig
from generation.gan.data import dataset_hash
from generation.gan.finetune import ARCHITECTURE_FIELDS, discriminator_blocks
from generation.gan.networks import build_discriminator
from generation.models import Curation, Dataset, DatasetImage, GeneratedImage, ModelVersion, TrainingRun
from generation.services.training import training_run_create, training_run_estimate

SCHEDULE_DEFAULT_FRACTION = 4  # a fine-tune trains a quarter of its parent's steps unless told otherwise


def parent_checkpoint(*, model_version: ModelVersion):
    return run_directory(model_version.training_run.public_id) / "checkpoints" / "latest.pt"


def _has_checkpoint(model_version: ModelVersion) -> bool:
    """With media in a bucket the run row names its stored checkpoint (the runs folder may be another host's)."""
    if media_is_remote():
        return bool(model_version.training_run.checkpoint_file)
    return parent_checkpoint(model_version=model_version).is_file()


def fine_tune_dataset_create(*, owner: Any, model_version: ModelVersion) -> Dataset:
    """The parent dataset plus the owner's images of `model_version` marked keep, as a new dataset version."""
    return _dataset_build(owner=owner, model_version=model_version)[0]


def _dataset_build(*, owner: Any, model_version: ModelVersion) -> tuple[Dataset, list[str]]:
    if model_version.owner_id != owner.pk:
        raise NotFound("No such model.")
    parent = model_version.training_run.dataset
    kept = list(
        GeneratedImage.objects.filter(owner=owner, model_version=model_version, curation=Curation.KEEP).order_by(
            "job_id", "index"
        )
    )
    if not kept:
        raise InvalidInput(
            "model: mark some of this model's images keep before fine-tuning on them.",
            field="model",
            code=GenerationError.NOTHING_KEPT,
        )
    dataset = Dataset(
        owner=owner,
        name=f"{parent.name} + {len(kept)} kept"[:200],
        class_names=parent.class_names,
        parent=parent,
        parent_model_version=model_version,
        contents_public=parent.contents_public,
    )
    names = list(model_version.class_names)
    rows, written, seen = [], [], set()
    try:
        for image in parent.images.all():
            seen.add(image.sha256)
            with image.file.open("rb") as handle:
                stored = default_storage.save(
                    f"{dataset.storage_prefix}/{image.sha256}.png", ContentFile(handle.read())
                )
            written.append(stored)
            rows.append(
                DatasetImage(
                    file=stored,
                    sha256=image.sha256,
                    original_sha256=image.original_sha256,
                    original_name=image.original_name,
                    label=image.label,
                    width=image.width,
                    height=image.height,
                    size_bytes=image.size_bytes,
                )
            )
        for image in kept:
            if image.sha256 in seen:
                continue
            seen.add(image.sha256)
            with image.original.open("rb") as handle:
                payload = handle.read()
            stored = default_storage.save(f"{dataset.storage_prefix}/{image.sha256}.png", ContentFile(payload))
            written.append(stored)
            label = names[image.class_label] if model_version.conditional and image.class_label is not None else ""
            rows.append(
                DatasetImage(
                    file=stored,
                    sha256=image.sha256,
                    original_sha256=image.sha256,
                    original_name=f"kept-{image.public_id}.png",
                    label=label,
                    width=image.width,
                    height=image.height,
                    size_bytes=len(payload),
                )
            )
        with transaction.atomic():
            dataset.image_count = len(rows)
            dataset.total_bytes = sum(row.size_bytes for row in rows)
            dataset.dataset_hash = dataset_hash(row.sha256 for row in rows)
            dataset.upload_report = {"rejected": [], "duplicates": [], "kept_images": len(kept)}
            dataset.save()
            for row in rows:
                row.dataset = dataset
            DatasetImage.objects.bulk_create(rows)
            lineage.dataset_recorded(dataset=dataset)
    except BaseException:
        _delete(written)
        raise
    return dataset, written


def _delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def fine_tune_create(
    *,
    owner: Any,
    model_version: ModelVersion,
    fresh_discriminator: bool = False,
    freeze_d_blocks: int = 0,
    budget_minutes: float | None = None,
    config: dict[str, Any] | None = None,
) -> TrainingRun:
    """Queue a fine-tune of `model_version` on its dataset plus its kept images (one training unit)."""
    if model_version.owner_id != owner.pk:
        raise NotFound("No such model.")
    if not _has_checkpoint(model_version):
        raise InvalidInput(
            "model: this model version has no training checkpoint to start from.",
            field="model",
            code=GenerationError.NO_CHECKPOINT,
        )
    overrides = dict(config or {})
    for name in ARCHITECTURE_FIELDS:
        if name in overrides and overrides[name] != model_version.config.get(name):
            raise InvalidInput(
                f"config.{name}: a fine-tune keeps its parent's {name} ({model_version.config.get(name)!r}).",
                field=f"config.{name}",
            )
    blocks = len(discriminator_blocks(build_discriminator(GANConfig.from_dict(model_version.config))))
    if not isinstance(freeze_d_blocks, int) or not 0 <= freeze_d_blocks < blocks:
        raise InvalidInput(
            f"freeze_d_blocks: this model's discriminator has {blocks} blocks: freeze 0 to "
            f"{blocks - 1} of them, not {freeze_d_blocks!r}.",
            field="freeze_d_blocks",
        )
    parent_config = dict(model_version.config)
    steps = overrides.pop("steps", max(1, parent_config["steps"] // SCHEDULE_DEFAULT_FRACTION))
    base = {**parent_config, "budget_minutes": 0.0, "steps": steps}
    if budget_minutes is not None:
        base.pop("steps")  # the budget plans the steps
    merged = {**base, **overrides}
    # every 400 (plan ceiling, config) before a file is written; the parent stands in for the new version
    training_run_estimate(
        owner=owner, dataset=model_version.training_run.dataset, config=merged, budget_minutes=budget_minutes
    )
    written: list[str] = []
    try:
        with transaction.atomic():
            dataset, written = _dataset_build(owner=owner, model_version=model_version)
            run = training_run_create(owner=owner, dataset=dataset, config=merged, budget_minutes=budget_minutes)
            TrainingRun.objects.filter(pk=run.pk).update(
                init_from=model_version,
                fine_tune={"fresh_discriminator": bool(fresh_discriminator), "freeze_d_blocks": freeze_d_blocks},
            )
    except BaseException:
        _delete(written)
        raise
    run.refresh_from_db()
    return run
