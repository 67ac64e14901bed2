"""Generation reads, scoped to the acting user: another user's dataset, run, model or image is not found."""

from pathlib import Path, PurePosixPath
from typing import IO, Any
from uuid import UUID

from django.core.files.storage import default_storage
from django.db.models import QuerySet

from core.errors import NotFound
from core.media import media_is_remote
from generation.conf import run_directory, run_storage_name
from generation.models import Dataset, GeneratedImage, GenerationJob, ModelVersion, TrainingRun


def datasets_for(*, user: Any) -> QuerySet[Dataset]:
    return (
        Dataset.objects.filter(owner=user)
        .select_related("parent", "parent_model_version")
        .order_by("-created_at", "-id")
    )


def dataset_get(*, user: Any, public_id: UUID) -> Dataset:
    dataset = datasets_for(user=user).filter(public_id=public_id).first()
    if dataset is None:
        raise NotFound("No such dataset.")
    return dataset


def training_runs_for(*, user: Any) -> QuerySet[TrainingRun]:
    return (
        TrainingRun.objects.filter(owner=user).select_related("dataset", "model_version").order_by("-created_at", "-id")
    )


def training_run_get(*, user: Any, public_id: UUID) -> TrainingRun:
    run = training_runs_for(user=user).filter(public_id=public_id).first()
    if run is None:
        raise NotFound("No such training run.")
    return run


def model_versions_for(*, user: Any) -> QuerySet[ModelVersion]:
    return (
        ModelVersion.objects.filter(owner=user)
        .select_related("training_run__dataset__parent", "training_run__init_from")
        .order_by("-created_at", "-id")
    )


def model_version_get(*, user: Any, public_id: UUID) -> ModelVersion:
    version = model_versions_for(user=user).filter(public_id=public_id).first()
    if version is None:
        raise NotFound("No such model.")
    return version


def model_version_public_get(*, public_id: UUID) -> ModelVersion | None:
    """Any owner's model version, for naming it publicly (a commission brief may target an artist's model).
    Exposes nothing private: callers get the row to show its owner and name, never its files."""
    return ModelVersion.objects.select_related("owner").filter(public_id=public_id).first()


def generation_jobs_for(*, user: Any) -> QuerySet[GenerationJob]:
    return GenerationJob.objects.filter(owner=user).select_related("model_version").order_by("-created_at", "-id")


def generation_job_get(*, user: Any, public_id: UUID) -> GenerationJob:
    job = generation_jobs_for(user=user).filter(public_id=public_id).first()
    if job is None:
        raise NotFound("No such generation job.")
    return job


def generated_images_for(
    *,
    user: Any,
    job: GenerationJob | None = None,
    curation: str | None = None,
    model_version: ModelVersion | None = None,
) -> QuerySet[GeneratedImage]:
    """The user's images, optionally of one job or model version, or with one verdict ("keep", "reject",
    "none": not curated)."""
    images = GeneratedImage.objects.filter(owner=user).select_related("job", "model_version__training_run__dataset")
    if job is not None:
        images = images.filter(job=job)
    if model_version is not None:
        images = images.filter(model_version=model_version)
    if curation is not None:
        images = images.filter(curation="" if curation == "none" else curation)
    return images.order_by("job_id", "index")


def generated_image_get(*, user: Any, public_id: UUID) -> GeneratedImage:
    """The user's image with what regenerates it and where it came from (`generated_image_lineage`)."""
    image = generated_images_for(user=user).filter(public_id=public_id).first()
    if image is None:
        raise NotFound("No such image.")
    return image


def generated_image_lineage(*, image: GeneratedImage) -> dict[str, Any]:
    """Model version, dataset hash, training config and step, and the image's seed and parameters."""
    version = image.model_version
    return {
        "model_version": str(version.public_id),
        "onnx_sha256": version.onnx_sha256,
        "training_run": str(version.training_run.public_id),
        "dataset": str(version.training_run.dataset.public_id),
        "dataset_hash": version.dataset_hash,
        "step": version.step,
        "config": version.config,
        "seed": image.seed,
        "interpolation": image.interpolation,
        "truncation": image.truncation,
        "class_label": image.class_label,
        "provider": image.provider,
        "sha256": image.sha256,
    }


def training_run_image_open(*, run: TrainingRun, kind: str) -> IO[bytes] | None:
    """The run's latest `sample_grid` or `loss_curve` PNG, opened for reading (None when there is none yet): from
    the runs folder, or from storage when media is in a bucket (the worker that trained may be another host)."""
    relative = getattr(run, kind) if kind in ("sample_grid", "loss_curve") else ""
    if not relative or PurePosixPath(relative).is_absolute() or ".." in PurePosixPath(relative).parts:
        return None
    if media_is_remote():
        name = run_storage_name(run.public_id, relative)
        return default_storage.open(name, "rb") if default_storage.exists(name) else None
    directory = run_directory(run.public_id).resolve()
    path = (directory / relative).resolve()
    return Path(path).open("rb") if path.is_relative_to(directory) and path.is_file() else None


def generated_image_read(*, image: GeneratedImage, variant: str = "original") -> bytes:
    """The bytes of the image's original PNG or its preview."""
    if variant not in ("original", "preview"):
        raise ValueError("variant must be 'original' or 'preview'")
    with getattr(image, variant).open("rb") as handle:
        return handle.read()


# --- platform statistics (staff dashboard) -------------------------------------------------------------------


def job_state_counts() -> dict[str, dict[str, int]]:
    """How many training runs and generation jobs are in each state."""
    from django.db.models import Count

    def counts(model: Any) -> dict[str, int]:
        return {row["state"]: row["n"] for row in model.objects.values("state").annotate(n=Count("id"))}

    return {"training_runs": counts(TrainingRun), "generation_jobs": counts(GenerationJob)}


def training_runs_recent(*, limit: int = 10) -> QuerySet[TrainingRun]:
    return TrainingRun.objects.select_related("owner", "dataset").order_by("-created_at", "-id")[:limit]
