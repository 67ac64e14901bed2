"""Enqueue periodic tasks when due (see core/scheduler.py). Started by `make run` beside the worker."""

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from core.scheduler import registered_periodic_tasks, schedule_due

logger = logging.getLogger("atelier.scheduler")


class Command(BaseCommand):
    help = "Run the periodic-task scheduler loop."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between checks (default 1)")
        parser.add_argument("--once", action="store_true", help="enqueue what is due, then exit")

    def handle(self, *args: Any, interval: float, once: bool, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        names = ", ".join(sorted(registered_periodic_tasks()))
        self.stdout.write(f"scheduler: {len(registered_periodic_tasks())} periodic tasks ({names})")
        while not stop.is_set():
            close_old_connections()
            try:
                for name in schedule_due():
                    logger.info("scheduler enqueued %s", name)
            except Exception:
                logger.exception("scheduler pass failed; retrying")
            if once:
                break
            stop.wait(interval)
