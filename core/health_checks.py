"""Core's health checks: the database answers, and a worker heart-beat recently."""

from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone


def database_health() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"status": "down", "vendor": connection.vendor, "error": str(exc)[:200]}
    return {"status": "ok", "vendor": connection.vendor}


def worker_health() -> dict[str, Any]:
    from core.models import WorkerHeartbeat

    latest = WorkerHeartbeat.objects.order_by("-last_seen").first()
    if latest is None:
        return {"status": "down", "detail": "no worker has ever reported", "last_heartbeat_age_s": None}
    age = (timezone.now() - latest.last_seen).total_seconds()
    alive = WorkerHeartbeat.objects.filter(last_seen__gte=timezone.now() - settings.WORKER_HEALTHY_WITHIN).count()
    return {
        "status": "ok" if age <= settings.WORKER_HEALTHY_WITHIN.total_seconds() else "down",
        "last_heartbeat_age_s": round(age, 1),
        "workers_alive": alive,
    }
