"""Helpers shared by the whole suite (its fixtures live in conftest.py): paths, the test password, the in-process
task runner, real worker subprocesses, waiting."""

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct-horse-battery-staple"


def run_queued_tasks(*, queues: str = "*", max_tasks: int | None = None) -> int:
    """Run every ready task in this process with django-tasks-db's own worker loop (batch mode).

    The loop closes "old" connections between tasks; inside a test's transaction that would close the test's
    own connection, so that one call is neutralised here (as Django's test client does for requests)."""
    from unittest import mock

    from django_tasks_db.management.commands import db_worker

    worker = db_worker.Worker(
        queue_names=queues.split(","),
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id="pytest",
        excluded_queue_names=[],
    )
    with mock.patch.object(db_worker, "close_old_connections", lambda: None):
        worker.run()
    return worker._run_tasks


def database_url_for_subprocess() -> str:
    """The URL of the database the tests use right now (the test database), for worker subprocesses."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    host, port = settings.get("HOST") or "127.0.0.1", settings.get("PORT") or 5432
    auth = settings.get("USER") or "postgres"
    if settings.get("PASSWORD"):
        auth += f":{settings['PASSWORD']}"
    return f"postgres://{auth}@{host}:{port}/{settings['NAME']}"


def start_db_worker(env: dict[str, str], *, queues: str = "*") -> subprocess.Popen:
    """A real `manage.py db_worker` in its own process group (so a test can SIGKILL it and its children)."""
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--queue-name",
            queues,
            "--interval",
            "0.1",
            "--no-startup-delay",
            "--no-reload",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
