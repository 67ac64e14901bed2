import os
import signal
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.jobs import JobState, backoff_delay, enqueue_once, job_cancel, job_enqueue, job_retry, sweep_stale_jobs
from core.models import PeriodicTaskState
from core.scheduler import register_periodic, schedule_due
from tests.helpers import start_db_worker, wait_for
from tests.jobapp.models import SleepJob


def new_job(tmp_path, **fields) -> SleepJob:
    job = SleepJob.objects.create(marker_path=str(tmp_path / "marker.txt"), **fields)
    job_enqueue(job=job)
    return job


def completions(tmp_path) -> list[str]:
    marker = tmp_path / "marker.txt"
    return marker.read_text().splitlines() if marker.exists() else []


def release_deferred_tasks() -> None:
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


@pytest.mark.django_db
def test_job_runs_once_and_succeeds(tmp_path, run_tasks):
    job = new_job(tmp_path)
    assert run_tasks() == 1
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.attempts == 1 and job.progress == 1.0
    assert completions(tmp_path) == ["done attempt=1"]


@pytest.mark.django_db
def test_duplicate_delivery_of_a_finished_job_does_nothing(tmp_path, run_tasks):
    job = new_job(tmp_path)
    run_tasks()
    SleepJob.job_task().enqueue(job.pk)  # the same task delivered again
    run_tasks()
    assert completions(tmp_path) == ["done attempt=1"]


@pytest.mark.django_db
def test_failure_is_retried_with_backoff_then_succeeds(tmp_path, run_tasks):
    job = new_job(tmp_path, fail_times=1)
    run_tasks()
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.attempts == 1
    assert "planned failure" in job.last_error
    assert job.next_attempt_at >= timezone.now() + backoff_delay(attempts=1) - timedelta(seconds=5)
    assert run_tasks() == 0  # the retry waits for its backoff
    release_deferred_tasks()
    run_tasks()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.attempts == 2
    assert completions(tmp_path) == ["done attempt=2"]


def test_backoff_doubles_and_is_capped():
    with override_settings(JOB_BACKOFF_BASE=timedelta(seconds=10)):
        assert [backoff_delay(attempts=n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]
        assert backoff_delay(attempts=30) == timedelta(hours=1)


@pytest.mark.django_db
def test_job_fails_for_good_after_max_attempts(tmp_path, run_tasks):
    job = new_job(tmp_path, fail_times=10, max_attempts=2)
    run_tasks()
    release_deferred_tasks()
    run_tasks()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.attempts == 2
    assert completions(tmp_path) == []


@pytest.mark.django_db
def test_cancelling_a_queued_job_stops_it_before_it_runs(tmp_path, run_tasks):
    job = new_job(tmp_path)
    job_cancel(job=job)
    run_tasks()
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert completions(tmp_path) == []


@pytest.mark.django_db
def test_manual_retry_requeues_a_failed_job(tmp_path, run_tasks):
    job = new_job(tmp_path, fail_times=1, max_attempts=1)
    run_tasks()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    job_retry(job=job)
    run_tasks()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED


@pytest.mark.django_db
def test_sweeper_requeues_a_running_job_whose_heartbeat_is_stale(tmp_path, settings):
    job = new_job(tmp_path)
    stale = timezone.now() - settings.JOB_STALE_AFTER - timedelta(seconds=1)
    SleepJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, attempts=1, heartbeat_at=stale)
    DBTaskResult.objects.filter(id=job.task_id).update(status="RUNNING")
    assert sweep_stale_jobs() == {"requeued": 1, "failed": 0}
    job.refresh_from_db()
    assert job.state == JobState.QUEUED
    assert "stopped heart-beating" in job.last_error
    assert DBTaskResult.objects.filter(status="READY", args_kwargs__args=[job.pk]).count() == 1
    assert DBTaskResult.objects.filter(status="FAILED").count() == 1  # the orphaned task row is closed


@pytest.mark.django_db
def test_sweeper_leaves_fresh_heartbeats_alone(tmp_path):
    job = new_job(tmp_path)
    SleepJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, attempts=1, heartbeat_at=timezone.now())
    assert sweep_stale_jobs() == {"requeued": 0, "failed": 0}


@pytest.mark.django_db
def test_sweeper_fails_a_stale_job_that_used_its_attempts(tmp_path, settings):
    job = new_job(tmp_path, max_attempts=2)
    stale = timezone.now() - settings.JOB_STALE_AFTER - timedelta(seconds=1)
    SleepJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, attempts=2, heartbeat_at=stale)
    assert sweep_stale_jobs() == {"requeued": 0, "failed": 1}
    job.refresh_from_db()
    assert job.state == JobState.FAILED


@pytest.mark.django_db
def test_sweeper_reenqueues_a_queued_job_whose_task_row_was_lost(tmp_path, settings):
    job = new_job(tmp_path)
    DBTaskResult.objects.all().delete()
    SleepJob.objects.filter(pk=job.pk).update(queued_at=timezone.now() - settings.JOB_STALE_AFTER * 2)
    assert sweep_stale_jobs()["requeued"] == 1
    assert DBTaskResult.objects.filter(status="READY").count() == 1


@pytest.mark.django_db
def test_enqueue_once_enqueues_nothing_while_a_run_of_the_task_waits():
    from core.tasks import sweep_stale_jobs_task

    first = enqueue_once(sweep_stale_jobs_task)
    assert first is not None and enqueue_once(sweep_stale_jobs_task) is None
    DBTaskResult.objects.filter(id=first.id).update(status="SUCCESSFUL")
    assert enqueue_once(sweep_stale_jobs_task) is not None


@pytest.mark.django_db
def test_scheduler_enqueues_due_tasks_once_and_not_while_the_last_run_waits(monkeypatch):
    monkeypatch.setattr("core.scheduler._REGISTRY", {})
    register_periodic(name="test.sweep", task_path="core.tasks.sweep_stale_jobs_task", every=timedelta(seconds=30))
    now = timezone.now()
    assert "test.sweep" in schedule_due(now=now)
    assert "test.sweep" not in schedule_due(now=now)  # not due again yet
    later = now + timedelta(minutes=1)
    assert "test.sweep" not in schedule_due(now=later)  # due, but the previous run still waits in the queue
    assert PeriodicTaskState.objects.get(name="test.sweep").next_run_at > later
    task_paths = DBTaskResult.objects.values_list("task_path", flat=True)
    assert list(task_paths).count("core.tasks.sweep_stale_jobs_task") == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigkilled_worker_task_is_swept_and_completes_exactly_once(tmp_path, subprocess_env):
    from core.models import WorkerHeartbeat

    job = new_job(tmp_path, seconds=30)
    first = start_db_worker(subprocess_env)
    try:
        wait_for(lambda: SleepJob.objects.get(pk=job.pk).state == JobState.RUNNING, 60, "the job to start")
        wait_for(lambda: WorkerHeartbeat.objects.exists(), 30, "the worker heartbeat")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert SleepJob.objects.get(pk=job.pk).state == JobState.RUNNING  # left RUNNING forever by the kill
    SleepJob.objects.filter(pk=job.pk).update(seconds=0.5)
    # Time passes: the heartbeat goes stale.
    SleepJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert sweep_stale_jobs() == {"requeued": 1, "failed": 0}
    second = start_db_worker(subprocess_env)
    try:
        wait_for(lambda: SleepJob.objects.get(pk=job.pk).state == JobState.SUCCEEDED, 60, "the job to finish")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    job.refresh_from_db()
    assert job.attempts == 2
    assert completions(tmp_path) == ["done attempt=2"]


@pytest.mark.django_db
def test_a_worker_that_lost_its_claim_cannot_touch_the_row(tmp_path):
    from core.jobs import JobCancelled, job_heartbeat, job_start, job_succeed

    job = new_job(tmp_path)
    stale_claim = job_start(model=SleepJob, pk=job.pk)
    # The sweeper requeued the job and another worker claimed it (attempt 2).
    SleepJob.objects.filter(pk=job.pk).update(state=JobState.QUEUED)
    fresh_claim = job_start(model=SleepJob, pk=job.pk)
    assert fresh_claim.attempts == 2
    with pytest.raises(JobCancelled):
        job_heartbeat(job=stale_claim)
    job_succeed(job=stale_claim)
    assert SleepJob.objects.get(pk=job.pk).state == JobState.RUNNING
    job_succeed(job=fresh_claim)
    assert SleepJob.objects.get(pk=job.pk).state == JobState.SUCCEEDED


@pytest.mark.django_db
def test_too_many_uploaded_files_is_413_problem(user_client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [SimpleUploadedFile(f"{i}.png", b"x") for i in range(3)]
    response = user_client.post("/api/v1/verify", {"file": files}, format="multipart")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_routine_periodic_task_lines_are_filtered_but_failures_pass():
    import logging

    from core.logging import QuietPeriodicTasks

    quiet = QuietPeriodicTasks()

    def record(level: int, message: str) -> logging.LogRecord:
        return logging.LogRecord("django.tasks", level, __file__, 1, message, None, None)

    periodic = "Task id=1 path=core.tasks.sweep_stale_jobs_task state=SUCCESSFUL"
    assert not quiet.filter(record(logging.INFO, periodic))
    assert quiet.filter(record(logging.ERROR, periodic.replace("SUCCESSFUL", "FAILED")))
    assert quiet.filter(record(logging.INFO, "Task id=2 path=generation.tasks.run_training_run state=RUNNING"))
