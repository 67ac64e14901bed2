"""Write services of the generation app. Other apps import from here: `from generation import services`."""

from django.db.models import Q

from core.jobs import FINISHED_STATES
from generation.models import DatasetProcessing, GenerationJob, TrainingRun
from generation.services.datasets import (
    DatasetUpload,
    dataset_class_names,
    dataset_create,
    dataset_delete,
    dataset_prepare,
    dataset_process_now,
    dataset_processing_settle,
    dataset_processing_work,
    dataset_ready_check,
)
from generation.services.generating import (
    encode_png,
    generation_job_cancel,
    generation_job_create,
    generation_job_retry,
    generation_job_settle,
    generation_jobs_work,
    regenerate_image_bytes,
)
from generation.services.importing import ModelImportError, model_version_import
from generation.services.pausing import (
    training_run_pause,
    training_run_resume,
    training_runs_drain,
    training_runs_undrain,
)
from generation.services.training import (
    training_config_resolve,
    training_run_cancel,
    training_run_create,
    training_run_estimate,
    training_run_retry,
    training_run_settle,
    training_run_work,
)


def generation_settle_finished(*, limit: int = 500) -> dict[str, int]:
    """Settle finished runs and jobs nobody settled (a worker died, or the sweeper failed them): the periodic
    reconciler behind refunds and events."""
    unsettled = Q(state__in=FINISHED_STATES, settled_at__isnull=True)
    runs = sum(
        training_run_settle(run_pk=pk)
        for pk in TrainingRun.objects.filter(unsettled).values_list("pk", flat=True)[:limit]
    )
    jobs = sum(
        generation_job_settle(job_pk=pk)
        for pk in GenerationJob.objects.filter(unsettled).values_list("pk", flat=True)[:limit]
    )
    uploads = sum(
        dataset_processing_settle(job_pk=pk)
        for pk in DatasetProcessing.objects.filter(state__in=FINISHED_STATES)
        .exclude(uploads=[])
        .values_list("pk", flat=True)[:limit]
    )
    return {"training_runs": runs, "generation_jobs": jobs, "dataset_uploads": uploads}


__all__ = [
    "DatasetUpload",
    "ModelImportError",
    "dataset_class_names",
    "dataset_create",
    "dataset_delete",
    "dataset_prepare",
    "dataset_process_now",
    "dataset_processing_settle",
    "dataset_processing_work",
    "dataset_ready_check",
    "encode_png",
    "generation_job_cancel",
    "generation_job_create",
    "generation_job_retry",
    "generation_job_settle",
    "generation_jobs_work",
    "generation_settle_finished",
    "model_version_import",
    "regenerate_image_bytes",
    "training_config_resolve",
    "training_run_cancel",
    "training_run_create",
    "training_run_estimate",
    "training_run_pause",
    "training_run_resume",
    "training_run_retry",
    "training_run_settle",
    "training_run_work",
    "training_runs_drain",
    "training_runs_undrain",
]
