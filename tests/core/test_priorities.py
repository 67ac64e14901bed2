"""Within a pool, paying customers' jobs go first and nobody starves: checked with real worker processes
claiming from PostgreSQL (SKIP LOCKED), in the order they really ran."""

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.jobs import job_enqueue, job_priority, tasks_age
from tests.helpers import start_db_worker, wait_for
from tests.jobapp.models import SleepJob

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent claims need PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def priority_by_marker(settings):
    settings.JOB_PRIORITY_HOOK = "tests.jobapp.tasks.sleep_job_priority"


def _job(tmp_path: Path, name: str) -> SleepJob:
    job = SleepJob.objects.create(marker_path=str(tmp_path / f"{name}.txt"), seconds=0.2)
    job_enqueue(job=job)
    return job


def _run_in_order(env, jobs: list[SleepJob], *, workers: int) -> list[int]:
    processes = [start_db_worker(env, queues="default") for _ in range(workers)]
    try:
        wait_for(
            lambda: SleepJob.objects.filter(pk__in=[j.pk for j in jobs], state="succeeded").count() == len(jobs),
            timeout=60,
            what="every job to finish",
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    finished = SleepJob.objects.filter(pk__in=[j.pk for j in jobs]).order_by("started_at")
    return [job.pk for job in finished]


def test_paid_jobs_are_claimed_before_older_free_ones(tmp_path, subprocess_env, priority_by_marker):
    free = [_job(tmp_path, f"free-{i}") for i in range(3)]
    time.sleep(0.05)
    paid = [_job(tmp_path, f"paid-{i}") for i in range(3)]
    assert {job_priority(job) for job in free} == {0} and {job_priority(job) for job in paid} == {10}
    workers = 2
    order = _run_in_order(subprocess_env, free + paid, workers=workers)
    # Workers claim in priority order, and SKIP LOCKED lets a worker take a free job only once every paid one
    # is claimed. Start times come from each worker's clock after its claim, so while one worker claims the
    # last paid job another may claim (and stamp) a free one a moment earlier: at most workers - 1 free jobs
    # can appear among the paid ones. In enqueue order (no priorities) the first four would be 3 free, 1 paid.
    assert {job.pk for job in paid} <= set(order[: len(paid) + workers - 1]), order


def test_a_free_job_that_waited_long_enough_overtakes_fresh_paid_ones(
    tmp_path, subprocess_env, priority_by_marker, settings
):
    old_free = _job(tmp_path, "free-old")
    DBTaskResult.objects.filter(id=old_free.task_id).update(enqueued_at=timezone.now() - timedelta(minutes=30))
    paid = [_job(tmp_path, f"paid-{i}") for i in range(3)]
    for minute in range(10, 0, -1):  # the scheduler ran the ageing pass once a minute while it waited
        tasks_age(now=timezone.now() - timedelta(minutes=minute) + settings.JOB_PRIORITY_AGING)
    assert DBTaskResult.objects.get(id=old_free.task_id).priority == 10
    assert {DBTaskResult.objects.get(id=job.task_id).priority for job in paid} == {10}
    order = _run_in_order(subprocess_env, [old_free, *paid], workers=1)
    assert order[0] == old_free.pk, order  # equal priority now, and it has waited longest


def test_ageing_stops_at_the_highest_priority(tmp_path, priority_by_marker):
    job = _job(tmp_path, "paid-top")
    DBTaskResult.objects.filter(id=job.task_id).update(priority=100, enqueued_at=timezone.now() - timedelta(hours=1))
    assert tasks_age() == 0
    assert DBTaskResult.objects.get(id=job.task_id).priority == 100
