"""Fixtures for the commissions tests: private media per test, a client and artists with real tokens, an API
key made through the API, a brief already awarded, and (reused from tests/generation) a really exported model."""

from pathlib import Path

import pytest

from tests.generation.factories import export_tiny_onnx, install_model_version
from tests.marketplace.commissions.helpers import accept, offer, post_brief


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.GENERATION_RUNS_ROOT = str(tmp_path / "runs")
    return tmp_path / "media"


@pytest.fixture
def client_user(make_user):
    return make_user(role="buyer", display_name="Client")


@pytest.fixture
def client_api(client_for, client_user):
    return client_for(client_user)


@pytest.fixture
def other_artist(make_user):
    return make_user(role="artist", display_name="Other artist")


@pytest.fixture
def other_artist_api(client_for, other_artist):
    return client_for(other_artist)


@pytest.fixture
def brief(client_api) -> dict:
    response = post_brief(client_api)
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def awarded(client_api, artist_client, brief) -> dict:
    """A brief with the artist's offer (5000 USD cents, 1 revision) accepted and paid."""
    sent = offer(artist_client, brief["id"], price=5000, revisions=1)
    assert sent.status_code == 201, sent.json()
    response = accept(client_api, sent.json()["id"])
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.fixture(scope="session")
def exported_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, parity-checked export of a 2-step 32px generator (tests/generation's builder)."""

    return export_tiny_onnx(tmp_path_factory.mktemp("commission-model"))


@pytest.fixture
def model_of(db, exported_onnx: Path):
    """`model_of(user)`: a model version owned by `user`, backed by the real exported ONNX file."""
    from generation import runtime

    runtime.clear_caches()

    def make(owner):
        return install_model_version(owner=owner, onnx_path=exported_onnx)

    return make
