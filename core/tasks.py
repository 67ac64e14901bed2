"""Core's periodic housekeeping tasks (registered with the scheduler in CoreConfig.ready)."""

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from core.jobs import sweep_stale_jobs, tasks_age


@task(queue_name="default")
def age_waiting_tasks_task() -> int:
    return tasks_age()


@task(queue_name="default")
def sweep_stale_jobs_task() -> dict[str, int]:
    return sweep_stale_jobs()


@task(queue_name="default")
def prune_idempotency_keys_task() -> int:
    from core.services import idempotency_keys_prune

    return idempotency_keys_prune()


@task(queue_name="default")
def prune_housekeeping_task() -> dict[str, int]:
    """Forget finished task results after a week and worker heartbeats after a day."""
    from django_tasks_db.models import DBTaskResult

    from core.models import WorkerHeartbeat

    now = timezone.now()
    results, _ = DBTaskResult.objects.finished().filter(finished_at__lt=now - timedelta(days=7)).delete()
    workers, _ = WorkerHeartbeat.objects.filter(last_seen__lt=now - timedelta(days=1)).delete()
    return {"task_results": results, "worker_heartbeats": workers}
