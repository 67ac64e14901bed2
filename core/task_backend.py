"""django-tasks-db's database backend, plus the request id: a task enqueued while serving a request stores that
request's id beside its arguments (`args_kwargs["request_id"]`, which the worker does not pass to the task), and
the worker puts it back in context while the task runs (core.receivers), so the task's log lines carry it."""

from typing import Any

from django_tasks_db.backend import DatabaseBackend as BaseDatabaseBackend
from django_tasks_db.compat import normalize_json

from core.request_id import current_request_id


class DatabaseBackend(BaseDatabaseBackend):
    def _task_to_db_task(self, task: Any, args: Any, kwargs: Any) -> Any:
        from django_tasks_db.models import DBTaskResult

        payload: dict[str, Any] = {"args": args, "kwargs": kwargs}
        if request_id := current_request_id.get():
            payload["request_id"] = request_id
        return DBTaskResult.objects.create(
            id=self._get_id(),
            args_kwargs=normalize_json(payload),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=self.alias,
        )
