"""django-tasks-db's `db_worker`, plus a liveness heartbeat that /healthz reads.

The heartbeat runs in a daemon thread, so it keeps beating while a long task (a training run) holds the main
thread, and stops the instant the process dies — which is exactly what "is a worker alive" should mean.
"""

import logging
import os
import socket
import threading
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

logger = logging.getLogger("atelier.worker")


def _beat(*, worker_id: str, queues: str, stop: threading.Event) -> None:
    from core.models import WorkerHeartbeat

    try:
        while True:
            try:
                close_old_connections()
                WorkerHeartbeat.objects.update_or_create(
                    worker_id=worker_id,
                    defaults={
                        "hostname": socket.gethostname(),
                        "pid": os.getpid(),
                        "queues": queues,
                        "last_seen": timezone.now(),
                    },
                )
            except Exception:  # the database may be briefly locked or restarting; try again next beat
                logger.debug("worker heartbeat failed", exc_info=True)
            if stop.wait(settings.WORKER_HEARTBEAT_INTERVAL):
                break
    finally:
        connection.close()


class Command(DbWorkerCommand):
    help = "Run a database background worker (django-tasks-db) that reports a liveness heartbeat."

    def handle(self, *args: Any, **options: Any) -> None:
        from core.startup import run_startup_checks

        run_startup_checks()
        stop = threading.Event()
        beat = threading.Thread(
            target=_beat,
            kwargs={"worker_id": options["worker_id"], "queues": options["queue_name"], "stop": stop},
            name="worker-heartbeat",
            daemon=True,
        )
        beat.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
            from core.models import WorkerHeartbeat

            WorkerHeartbeat.objects.filter(worker_id=options["worker_id"]).delete()
