from datetime import timedelta

from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import receivers  # noqa: F401  (connects the task signal receivers)
        from core.health import register_health_check
        from core.health_checks import database_health, worker_health
        from core.scheduler import register_periodic

        register_health_check("database", database_health)
        register_health_check("worker", worker_health)
        from core.metrics import register_metrics_collector
        from core.queue_metrics import collect as queue_metrics

        register_metrics_collector("queues", queue_metrics)
        register_periodic(
            name="core.sweep_stale_jobs", task_path="core.tasks.sweep_stale_jobs_task", every=timedelta(seconds=30)
        )
        register_periodic(
            name="core.age_waiting_tasks",
            task_path="core.tasks.age_waiting_tasks_task",
            every=settings.JOB_PRIORITY_AGING,
        )
        register_periodic(
            name="core.prune_idempotency_keys",
            task_path="core.tasks.prune_idempotency_keys_task",
            every=timedelta(hours=1),
        )
        register_periodic(
            name="core.prune_housekeeping", task_path="core.tasks.prune_housekeeping_task", every=timedelta(hours=6)
        )
