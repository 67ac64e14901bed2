"""Fixtures shared by the whole suite: users, authenticated API clients, the task runner, markers."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.helpers import (
    CHROMIUM,
    PASSWORD,
    database_url_for_subprocess,
    run_queued_tasks,
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if "postgres" in item.keywords and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (.ci/run does)")
    if "browser" in item.keywords and not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium (apt-get install chromium; .ci/run installs it)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """After every test that used the database: no artwork's pre-rendered browse card may differ from what its
    columns render (marketplace/gallery/cards.py), so a writer that skips `card_text` fails the suite."""
    outcome = yield
    uses_database = item.get_closest_marker("django_db") or {"db", "transactional_db"} & set(item.fixturenames)
    if outcome.excinfo is None and uses_database:
        from marketplace.gallery.cards import artworks_with_stale_cards

        stale = [(artwork.pk, artwork.title) for artwork in artworks_with_stale_cards()]
        assert not stale, f"artworks whose card no service refreshed (see marketplace/gallery/cards.py): {stale}"


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


@pytest.fixture
def run_tasks() -> Callable[..., int]:
    return run_queued_tasks


@pytest.fixture
def subprocess_env() -> Iterator[dict[str, str]]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_test", DATABASE_URL=database_url_for_subprocess(), PYTHONUNBUFFERED="1"
    )
    yield env


from tests.s3 import moto_s3, s3_media  # noqa: E402,F401  (the S3 server fixtures, for every test directory)
