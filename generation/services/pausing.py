"""Pausing training runs at checkpoint boundaries, so an operator can drain a worker for a deploy (losing at
most one checkpoint interval of work) and the run continues later exactly where it stopped.

A queued run pauses at once. A running one gets `pause_requested`; its worker checks the flag at each
checkpoint boundary (right after writing the checkpoint), ends its task and leaves the run `paused`. Resume
queues it again: the worker resumes from that checkpoint, RNG states included, so the finished run is the one
an uninterrupted run would have been.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import InvalidTransition
from core.events import event_emit
from core.jobs import JobState, job_enqueue
from generation import locks
from generation.models import TrainingRun, TrainingState

PAUSE_REASONS = ("owner", "staff", "drain")


def _payload(run: TrainingRun, **extra: Any) -> dict[str, Any]:
    return {"training_run": str(run.public_id), "step": run.step, "reason": run.pause_reason, **extra}


def training_run_pause(*, run: TrainingRun, reason: str = "owner") -> TrainingRun:
    """Pause a queued run now, or ask a running one to pause at its next checkpoint boundary."""
    if reason not in PAUSE_REASONS:
        raise ValueError(f"pause reason must be one of {PAUSE_REASONS}")
    with transaction.atomic():
        locked = locks.lock_training_run(run.pk)
        if locked.state == JobState.QUEUED and not locked.cancel_requested:
            # the queued task finds the run no longer queued and skips it; resume enqueues a new one
            locked.state, locked.paused_at, locked.pause_reason = TrainingState.PAUSED, timezone.now(), reason
            locked.save(update_fields=["state", "paused_at", "pause_reason", "updated_at"])
            event_emit(type="training.paused", user=locked.owner, payload=_payload(locked))
        elif locked.state == JobState.RUNNING and not locked.cancel_requested:
            if not locked.pause_requested:
                locked.pause_requested, locked.pause_reason = True, reason
                locked.save(update_fields=["pause_requested", "pause_reason", "updated_at"])
        else:
            state = "being cancelled" if locked.cancel_requested else locked.state
            raise InvalidTransition(entity="training run", state=state, action="pause")
    return TrainingRun.objects.get(pk=run.pk)


def training_run_resume(*, run: TrainingRun) -> TrainingRun:
    """Queue a paused run again (it resumes from its checkpoint), or withdraw a pause not yet taken."""
    with transaction.atomic():
        locked = locks.lock_training_run(run.pk)
        if locked.state == TrainingState.PAUSED:
            payload = _payload(locked)  # with the reason it was paused for
            locked.state, locked.paused_at, locked.pause_reason = TrainingState.QUEUED, None, ""
            locked.save(update_fields=["state", "paused_at", "pause_reason", "updated_at"])
            job_enqueue(job=locked)
            event_emit(type="training.resumed", user=locked.owner, payload=payload)
        elif locked.state == JobState.RUNNING and locked.pause_requested:
            locked.pause_requested, locked.pause_reason = False, ""
            locked.save(update_fields=["pause_requested", "pause_reason", "updated_at"])
        else:
            raise InvalidTransition(entity="training run", state=locked.state, action="resume")
    return TrainingRun.objects.get(pk=run.pk)


def training_run_mark_paused(*, run: TrainingRun, step: int) -> bool:
    """The worker's side: its attempt stopped at checkpoint `step` on request. False when the row is no
    longer this attempt's (swept, or cancelled meanwhile): then the caller stops as for a cancel."""
    with transaction.atomic():
        # the attempt that paused is not a failure: it gives its attempt back to the retry budget
        updated = TrainingRun.objects.filter(
            pk=run.pk, state=JobState.RUNNING, attempts=run.attempts, cancel_requested=False
        ).update(
            state=TrainingState.PAUSED,
            pause_requested=False,
            paused_at=timezone.now(),
            step=step,
            checkpoint_step=step,
            max_attempts=F("max_attempts") + 1,
            updated_at=timezone.now(),
        )
        if updated:
            paused = TrainingRun.objects.select_related("owner").get(pk=run.pk)
            event_emit(type="training.paused", user=paused.owner, payload=_payload(paused))
    return bool(updated)


def training_runs_drain(*, include_queued: bool = False) -> dict[str, int]:
    """Ask every running run to yield at its next checkpoint boundary (and pause queued ones if asked): what a
    deploy runs before stopping the training workers. `training_runs_undrain` resumes what it paused."""
    asked = TrainingRun.objects.filter(state=JobState.RUNNING, cancel_requested=False, pause_requested=False).update(
        pause_requested=True, pause_reason="drain", updated_at=timezone.now()
    )
    queued = 0
    if include_queued:
        for run in TrainingRun.objects.filter(state=JobState.QUEUED, cancel_requested=False):
            try:
                training_run_pause(run=run, reason="drain")
                queued += 1
            except InvalidTransition:  # it started meanwhile: the next drain pass asks it
                continue
    return {
        "asked": asked,
        "paused_queued": queued,
        "still_running": TrainingRun.objects.filter(state=JobState.RUNNING).count(),
    }


def training_runs_undrain() -> int:
    """Resume every run a drain paused (runs their owners or staff paused stay paused)."""
    resumed = 0
    for run in TrainingRun.objects.filter(state=TrainingState.PAUSED, pause_reason="drain"):
        try:
            training_run_resume(run=run)
            resumed += 1
        except InvalidTransition:
            continue
    TrainingRun.objects.filter(state=JobState.RUNNING, pause_requested=True, pause_reason="drain").update(
        pause_requested=False, pause_reason=""
    )
    return resumed
