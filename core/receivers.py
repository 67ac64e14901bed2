"""Core's signal receivers (connected in CoreConfig.ready): a task runs with the id of the request that enqueued
it (stored beside its arguments by core.task_backend), so the task's log lines carry it."""

from typing import Any

from django.dispatch import receiver
from django.tasks.signals import task_finished, task_started
from django_tasks_db.models import DBTaskResult

from core.request_id import current_request_id


@receiver(task_started)
def _restore_request_id(sender: Any, task_result: Any, **kwargs: Any) -> None:
    stored = DBTaskResult.objects.filter(id=task_result.id).values_list("args_kwargs", flat=True).first() or {}
    # Set, not reset-by-token: workers may run tasks in several threads, each with its own context.
    current_request_id.set(stored.get("request_id", ""))


@receiver(task_finished)
def _forget_request_id(sender: Any, task_result: Any, **kwargs: Any) -> None:
    current_request_id.set("")
