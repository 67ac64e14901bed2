"""Generation background tasks: thin wrappers that run a job row through core.jobs, then settle it.

Like every tasks module, this one imports its services inside each task, so services may import tasks at the
top without a loop."""

from django.tasks import task

from core.jobs import run_job
from generation.models import DatasetProcessing, GenerationJob, TrainingRun


@task(queue_name="training")
def run_training_run(pk: int) -> str:
    from generation import services

    outcome = run_job(model=TrainingRun, pk=pk, work=services.training_run_work)
    services.training_run_settle(run_pk=pk)
    return outcome


@task(queue_name="generation")
def run_generation_job(pk: int) -> str:
    from generation import services

    outcome = run_job(model=GenerationJob, pk=pk, work=services.generation_jobs_work)
    services.generation_job_settle(job_pk=pk)
    return outcome


@task(queue_name="default")
def settle_finished_jobs_task() -> dict[str, int]:
    from generation import services

    return services.generation_settle_finished()


@task(queue_name="default")
def run_dataset_processing(pk: int) -> str:
    from generation import services

    outcome = run_job(model=DatasetProcessing, pk=pk, work=services.dataset_processing_work)
    services.dataset_processing_settle(job_pk=pk)
    return outcome
