"""Fixtures shared by the whole suite: users, authenticated API clients, the task runner, markers."""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct-horse-battery-staple"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if "postgres" in item.keywords and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (.ci/run does)")
    if "browser" in item.keywords and not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium (apt-get install chromium; .ci/run installs it)")


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """Per-process caches must not outlive a test's database: SQLite reuses ids after a rollback."""
    from django.core.cache import cache

    from provenance.index import record_index_reset

    record_index_reset()
    cache.clear()
    yield
    record_index_reset()


@pytest.fixture(autouse=True)
def _default_plans_after_flush(request, django_db_blocker):
    """Transactional tests run after the others and each ends with a flush, which also removes the plans that
    migration seeded; put them back (idempotently) before every transactional test."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    from marketplace.subscriptions.services import plans_seed_defaults

    with django_db_blocker.unblock():
        plans_seed_defaults()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db) -> Callable[..., object]:
    from marketplace.accounts.models import User

    counter = {"n": 0}

    def make(*, role: str = "buyer", email: str | None = None, password: str = PASSWORD, **fields):
        counter["n"] += 1
        email = email or f"{role}{counter['n']}@example.com"
        if role == "staff":
            return User.objects.create_superuser(email=email, password=password, **fields)
        return User.objects.create_user(email=email, password=password, role=role, **fields)

    return make


@pytest.fixture
def client_for(db) -> Callable[..., APIClient]:
    """An APIClient authenticated as `user` with a real login token (Bearer atk_…)."""
    from marketplace.accounts.services import token_issue

    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).secret}")
        return client

    return make


@pytest.fixture
def user(make_user):
    return make_user(role="buyer")


@pytest.fixture
def artist(make_user):
    return make_user(role="artist")


@pytest.fixture
def user_client(client_for, user) -> APIClient:
    return client_for(user)


@pytest.fixture
def artist_client(client_for, artist) -> APIClient:
    return client_for(artist)


def run_queued_tasks(*, queues: str = "*", max_tasks: int | None = None) -> int:
    """Run every ready task in this process with django-tasks-db's own worker loop (batch mode).

    The loop closes "old" connections between tasks; inside a test's transaction that would close the test's
    own connection, so that one call is neutralised here (as Django's test client does for requests)."""
    from unittest import mock

    from django_tasks_db.management.commands import db_worker

    worker = db_worker.Worker(queue_names=queues.split(","), interval=0, batch=True, backend_name="default",
                              startup_delay=False, max_tasks=max_tasks, worker_id="pytest",
                              excluded_queue_names=[])
    with mock.patch.object(db_worker, "close_old_connections", lambda: None):
        worker.run()
    return worker._run_tasks


@pytest.fixture
def run_tasks() -> Callable[..., int]:
    return run_queued_tasks


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


@pytest.fixture
def subprocess_env() -> Iterator[dict[str, str]]:
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="config.settings_test", DATABASE_URL=database_url_for_subprocess(),
               PYTHONUNBUFFERED="1")
    yield env


def start_db_worker(env: dict[str, str], *, queues: str = "*") -> subprocess.Popen:
    """A real `manage.py db_worker` in its own process group (so a test can SIGKILL it and its children)."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--queue-name", queues, "--interval", "0.1",
         "--no-startup-delay", "--no-reload"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


from tests.s3 import moto_s3, s3_media  # noqa: E402,F401  (the S3 server fixtures, for every test directory)
