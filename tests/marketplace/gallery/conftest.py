"""Fixtures for the gallery: private media per test, a fresh near-duplicate index, distinct real images, artists
on a plan with commercial licences, and a real generated image (a tiny exported GAN run through generation's
own services)."""

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.marketplace.gallery.helpers import upload


@pytest.fixture(autouse=True)
def gallery_media(settings, tmp_path: Path) -> Path:
    """(The near-duplicate index and the browse page cache are reset around every test by tests/conftest.py.)"""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.GENERATION_RUNS_ROOT = str(tmp_path / "runs")
    return tmp_path / "media"


@pytest.fixture
def make_artwork(artist_client) -> Callable[..., dict]:
    """Upload (and by default publish) an artwork for `client` (the `artist` by default); returns its JSON."""

    def make(seed: int = 1, *, client=None, publish: bool = True, **fields) -> dict:
        client = client or artist_client
        created = upload(client, seed, **fields)
        assert created.status_code == 201, created.json()
        body = created.json()
        if publish:
            published = client.post(f"/api/v1/artworks/{body['id']}/publish")
            assert published.status_code == 200, published.json()
            body = published.json()
        return body

    return make


@pytest.fixture
def on_pro_plan() -> Callable[..., None]:
    """Subscribe a user to the Pro plan (commercial licences) through the subscriptions services."""
    from marketplace.subscriptions.services import subscription_change_plan

    def subscribe(user) -> None:
        change = subscription_change_plan(user=user, plan="pro", payment_method="tok_visa")
        assert change.subscription.plan.allows_commercial_licences

    return subscribe


@pytest.fixture
def make_listing(artist_client) -> Callable[..., dict]:
    def make(
        artwork_id: str, *, licence_type: str = "personal", price: int = 2_000, currency: str = "USD", client=None
    ) -> dict:
        response = (client or artist_client).post(
            f"/api/v1/artworks/{artwork_id}/listings",
            {"licence_type": licence_type, "price": price, "currency": currency},
            format="json",
        )
        assert response.status_code == 201, response.json()
        return response.json()

    return make


# --- a real generated image ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A really trained (2 steps) and exported 32 px generator, built once per session."""
    from tests.generation.factories import export_tiny_onnx

    return export_tiny_onnx(tmp_path_factory.mktemp("gallery-onnx"), seed=5)


@pytest.fixture
def generated_image_for(tiny_onnx: Path, run_tasks) -> Callable[..., object]:
    """A GeneratedImage owned by `user`, drawn by generation's own job services and worker loop."""
    from generation import runtime
    from generation.models import GeneratedImage
    from generation.services import generation_job_create
    from tests.generation.factories import install_model_version

    def make(user, *, seed: int = 7):
        model = install_model_version(owner=user, onnx_path=tiny_onnx)
        job = generation_job_create(user=user, model_version=model, seeds=[seed])
        run_tasks()
        runtime.clear_caches()
        return GeneratedImage.objects.get(job=job)

    return make
