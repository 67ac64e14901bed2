"""Periodic tasks. The task API has no cron, so a small scheduler loop (`manage.py run_scheduler`, started by
`make run`) enqueues registered tasks when due. State lives in the database (`PeriodicTaskState`) and due rows
are claimed under a row lock, so several schedulers on several hosts never enqueue the same run twice, and a
run is not enqueued again while the previous one still waits in the queue (a stopped worker does not pile up
work).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from core.jobs import enqueue_once


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    task_path: str
    every: timedelta


_REGISTRY: dict[str, PeriodicTask] = {}


def register_periodic(*, name: str, task_path: str, every: timedelta) -> None:
    """Called from an AppConfig.ready(): run `task_path` (a @task taking no arguments) every `every`."""
    _REGISTRY[name] = PeriodicTask(name=name, task_path=task_path, every=every)


def registered_periodic_tasks() -> dict[str, PeriodicTask]:
    return dict(_REGISTRY)


def schedule_due(*, now: datetime | None = None) -> list[str]:
    """Enqueue every registered task that is due; returns the names enqueued."""
    from core.models import PeriodicTaskState

    now = now or timezone.now()
    existing = set(PeriodicTaskState.objects.filter(name__in=_REGISTRY).values_list("name", flat=True))
    PeriodicTaskState.objects.bulk_create(
        [PeriodicTaskState(name=name, next_run_at=now) for name in _REGISTRY if name not in existing],
        ignore_conflicts=True,
    )
    enqueued = []
    with transaction.atomic():
        due = PeriodicTaskState.objects.select_for_update(skip_locked=True).filter(
            name__in=_REGISTRY, next_run_at__lte=now
        )
        for state in due:
            spec = _REGISTRY[state.name]
            result = enqueue_once(import_string(spec.task_path))
            if result is not None:
                state.last_task_id = str(result.id)
                state.last_run_at = now
                enqueued.append(state.name)
            state.next_run_at = now + spec.every
            state.save()
    return enqueued
