"""Job plumbing for domain rows (see DESIGN.md "Jobs and failure").

The task queue row (django-tasks-db) says *that* work should run; a domain row extending `JobMixin` says
*what state the work is in*. Tasks take the row's primary key and go through `run_job`, which claims the row
(so a duplicate delivery does nothing), keeps a heartbeat, retries with exponential backoff up to
`max_attempts`, and records the outcome. The periodic sweeper (`sweep_stale_jobs`) re-enqueues rows whose
heartbeat went stale — the database worker leaves a SIGKILLed task RUNNING forever — and fails them after the
attempt limit.
"""

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.tasks import Task, TaskResult
from django.utils import timezone
from django.utils.module_loading import import_string

from core.locks import lock_row

logger = logging.getLogger("atelier.jobs")


class JobState(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED_STATES = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


def _default_max_attempts() -> int:
    return settings.JOB_MAX_ATTEMPTS


class JobMixin(models.Model):
    """State, attempts, heartbeat and backoff for a domain row whose work runs as a background task.

    Subclasses set `job_task_path`, the dotted path of the `@task` that takes the row's primary key.
    """

    job_task_path: str = ""

    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=_default_max_attempts)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    worker = models.CharField(max_length=255, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    @classmethod
    def job_task(cls) -> Task:
        if not cls.job_task_path:
            raise NotImplementedError(f"{cls.__name__} must set job_task_path")
        return import_string(cls.job_task_path)


class JobCancelled(Exception):
    """Raised inside a job's work when its owner asked to cancel it."""


class JobYielded(Exception):
    """The work stopped at a resumable point and recorded the row's state itself (a paused training run):
    run_job leaves the row as the work left it."""


class PermanentJobError(Exception):
    """A failure that retrying cannot fix (bad input, a failed parity check): the job fails at once."""


def backoff_delay(*, attempts: int) -> timedelta:
    """Exponential backoff after the `attempts`-th failure: base, 2×base, 4×base … capped at one hour."""
    base = settings.JOB_BACKOFF_BASE
    return min(base * (2 ** max(attempts - 1, 0)), timedelta(hours=1))


def job_models() -> list[type[JobMixin]]:
    return [model for model in apps.get_models() if issubclass(model, JobMixin)]


TASK_MIN_PRIORITY, TASK_MAX_PRIORITY = -100, 100  # django.tasks' range


def job_priority(job: JobMixin) -> int:
    """The queue priority a job starts with, from `JOB_PRIORITY_HOOK` (a dotted path to `f(job) -> int`; the
    subscriptions app's puts paid plans first); 0 when none is set. Waiting raises it (`tasks_age`)."""
    hook = settings.JOB_PRIORITY_HOOK
    priority = import_string(hook)(job) if hook else 0
    return max(TASK_MIN_PRIORITY, min(TASK_MAX_PRIORITY, int(priority)))


def tasks_age(*, now: datetime | None = None) -> int:
    """Raise by one the priority of every task that has waited another `JOB_PRIORITY_AGING` — run once per that
    interval, so a task's priority grows with its age and nobody starves behind a stream of paid work."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    return (
        DBTaskResult.objects.ready()
        .filter(enqueued_at__lte=now - settings.JOB_PRIORITY_AGING, priority__lt=TASK_MAX_PRIORITY)
        .update(priority=F("priority") + 1)
    )


def enqueue_once(task: Task) -> TaskResult | None:
    """Enqueue a task that takes no arguments, unless a run of it already waits in the queue (then None): work
    that is triggered often (each commit, each period) is not piled up while no worker takes it."""
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.filter(task_path=task.module_path, status="READY").exists():
        return None
    return task.enqueue()


def job_enqueue(*, job: JobMixin, run_after: datetime | None = None) -> None:
    """Enqueue the job's task. Called inside the caller's transaction: the task row commits with it."""
    task = type(job).job_task().using(priority=job_priority(job))
    if run_after is not None:
        task = task.using(run_after=run_after)
    result = task.enqueue(job.pk)
    type(job).objects.filter(pk=job.pk).update(task_id=str(result.id), queued_at=timezone.now())
    job.task_id = str(result.id)


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def job_start[J: JobMixin](*, model: type[J], pk: Any) -> J | None:
    """Claim a queued job for this process; None if it is not queued (done, cancelled, or running elsewhere)."""
    now = timezone.now()
    claimed = model.objects.filter(pk=pk, state=JobState.QUEUED, cancel_requested=False).update(
        state=JobState.RUNNING,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        next_attempt_at=None,
        worker=_worker_name(),
    )
    if not claimed:
        model.objects.filter(pk=pk, state=JobState.QUEUED, cancel_requested=True).update(
            state=JobState.CANCELLED, finished_at=now
        )
        return None
    return model.objects.get(pk=pk)


def job_heartbeat(*, job: JobMixin, **fields: Any) -> None:
    """Refresh the heartbeat (and any progress fields); raise JobCancelled if the owner asked to stop."""
    model = type(job)
    # Matching the attempt number makes the claim exclusive: a worker the sweeper gave up on (its run requeued
    # and taken by another worker) finds no row to touch and stops.
    updated = model.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts).update(
        heartbeat_at=timezone.now(), **fields
    )
    for name, value in fields.items():
        setattr(job, name, value)
    if not updated:
        raise JobCancelled(f"{model.__name__} {job.pk} is no longer running")
    if model.objects.filter(pk=job.pk, cancel_requested=True).exists():
        raise JobCancelled(f"{model.__name__} {job.pk} was cancelled")


def job_succeed(*, job: JobMixin, **fields: Any) -> None:
    type(job).objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts).update(
        state=JobState.SUCCEEDED, finished_at=timezone.now(), last_error="", **fields
    )
    job.refresh_from_db()


def job_fail(*, job: JobMixin, error: str, retryable: bool = True) -> JobState:
    """Record a failure; requeue with backoff while attempts remain, else fail for good."""
    model = type(job)
    with transaction.atomic():
        locked = lock_row(model, job.pk)
        if locked.state != JobState.RUNNING or locked.attempts != job.attempts:
            return JobState(locked.state)
        if locked.cancel_requested:
            locked.state, locked.finished_at = JobState.CANCELLED, timezone.now()
        elif retryable and locked.attempts < locked.max_attempts:
            locked.state = JobState.QUEUED
            locked.next_attempt_at = timezone.now() + backoff_delay(attempts=locked.attempts)
        else:
            locked.state, locked.finished_at = JobState.FAILED, timezone.now()
        locked.last_error = error[:10_000]
        locked.save()
        if locked.state == JobState.QUEUED:
            job_enqueue(job=locked, run_after=locked.next_attempt_at)
    job.refresh_from_db()
    return JobState(job.state)


def job_cancel(*, job: JobMixin) -> JobMixin:
    """Queued jobs stop at once; a running job is asked to stop and does so at its next heartbeat."""
    model = type(job)
    now = timezone.now()
    with transaction.atomic():
        locked = lock_row(model, job.pk)
        if locked.state == JobState.QUEUED:
            locked.state, locked.finished_at, locked.cancel_requested = JobState.CANCELLED, now, True
        elif locked.state == JobState.RUNNING:
            locked.cancel_requested = True
        locked.save()
    return locked


def job_mark_cancelled(*, job: JobMixin) -> None:
    type(job).objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts).update(
        state=JobState.CANCELLED, finished_at=timezone.now()
    )
    job.refresh_from_db()


def job_retry(*, job: JobMixin) -> JobMixin:
    """Requeue a failed or cancelled job by hand (admin action), with a fresh attempt budget."""
    model = type(job)
    with transaction.atomic():
        locked = lock_row(model, job.pk)
        if locked.state not in (JobState.FAILED, JobState.CANCELLED):
            return locked
        locked.state, locked.finished_at, locked.cancel_requested = JobState.QUEUED, None, False
        locked.max_attempts = locked.attempts + settings.JOB_MAX_ATTEMPTS
        locked.save()
        job_enqueue(job=locked)
    return locked


class JobContext:
    """Handed to a job's work function: heartbeats at most every `interval` seconds, and cancellation."""

    def __init__(self, job: JobMixin, *, interval: float = 2.0) -> None:
        self.job = job
        self.interval = interval
        self._last = time.monotonic()

    def heartbeat(self, *, force: bool = False, **fields: Any) -> None:
        now = time.monotonic()
        if force or fields or now - self._last >= self.interval:
            job_heartbeat(job=self.job, **fields)
            self._last = now


def run_job[J: JobMixin](*, model: type[J], pk: Any, work: Callable[[J, JobContext], dict | None]) -> str:
    """Run `work` for one job row with claim, heartbeat, retry/backoff and outcome recording.

    `work` returns fields to store on success (or None). It raises JobCancelled to stop, PermanentJobError for
    a failure that retrying cannot fix, anything else for a retryable failure.
    """
    job = job_start(model=model, pk=pk)
    if job is None:
        return "skipped"
    context = JobContext(job)
    try:
        fields = work(job, context) or {}
    except JobCancelled:
        job_mark_cancelled(job=job)
        return "cancelled"
    except JobYielded:
        return "yielded"
    except PermanentJobError as exc:
        job_fail(job=job, error=str(exc), retryable=False)
        return "failed"
    except Exception as exc:
        logger.exception("%s %s failed (attempt %s)", model.__name__, pk, job.attempts)
        state = job_fail(job=job, error="".join(traceback.format_exception_only(exc)).strip())
        return str(state)
    job_succeed(job=job, **fields)
    return "succeeded"


def sweep_stale_jobs(*, now: datetime | None = None) -> dict[str, int]:
    """Requeue running jobs whose heartbeat is older than JOB_STALE_AFTER, or fail them after max attempts.

    Also requeues queued jobs whose task row is gone or finished (a lost enqueue). Safe to run concurrently:
    rows are locked with SKIP LOCKED where the database supports it.
    """
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    cutoff = now - settings.JOB_STALE_AFTER
    counts = {"requeued": 0, "failed": 0}
    for model in job_models():
        stale = model.objects.filter(state=JobState.RUNNING).filter(
            Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
        )
        for pk in list(stale.values_list("pk", flat=True)[:500]):
            with transaction.atomic():
                job = model.objects.select_for_update(skip_locked=True).filter(pk=pk, state=JobState.RUNNING).first()
                if job is None or (job.heartbeat_at and job.heartbeat_at >= cutoff):
                    continue
                DBTaskResult.objects.filter(id=job.task_id or None, status="RUNNING").update(
                    status="FAILED",
                    finished_at=now,
                    exception_class_path="core.jobs.WorkerLost",
                    traceback="worker stopped heart-beating; requeued by the sweeper",
                )
                error = f"worker {job.worker or '?'} stopped heart-beating (last {job.heartbeat_at})"
                if job.cancel_requested:
                    job.state, job.finished_at = JobState.CANCELLED, now
                elif job.attempts >= job.max_attempts:
                    job.state, job.finished_at, job.last_error = JobState.FAILED, now, error
                    counts["failed"] += 1
                else:
                    job.state, job.last_error = JobState.QUEUED, error
                    counts["requeued"] += 1
                job.save()
                if job.state == JobState.QUEUED:
                    job_enqueue(job=job)
        lost = model.objects.filter(state=JobState.QUEUED, queued_at__lt=cutoff, cancel_requested=False)
        for job in lost[:500]:
            alive = DBTaskResult.objects.filter(id=job.task_id or None, status__in=["READY", "RUNNING"]).exists()
            if not alive:
                job_enqueue(job=job)
                counts["requeued"] += 1
    if counts["requeued"] or counts["failed"]:
        logger.warning("sweeper: %s", counts)
    return counts
