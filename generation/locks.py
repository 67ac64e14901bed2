"""The generation app's row locks, all here (house rule 5): one row each (a dataset, a training run, a
generation job); `related` rows are joined and locked with it on PostgreSQL. Call inside
`transaction.atomic()`. (core.jobs locks job rows for their claims and state changes.)"""

from collections.abc import Sequence

from generation.models import Dataset, GenerationJob, TrainingRun


def lock_dataset(pk: int) -> Dataset:
    return Dataset.objects.select_for_update().get(pk=pk)


def lock_dataset_if_any(pk: int) -> Dataset | None:
    return Dataset.objects.select_for_update().filter(pk=pk).first()


def lock_training_run(pk: int, *, related: Sequence[str] = ()) -> TrainingRun:
    runs = TrainingRun.objects.select_for_update()
    return runs.select_related(*related).get(pk=pk) if related else runs.get(pk=pk)


def lock_generation_job(pk: int, *, related: Sequence[str] = ()) -> GenerationJob:
    jobs = GenerationJob.objects.select_for_update()
    return jobs.select_related(*related).get(pk=pk) if related else jobs.get(pk=pk)
