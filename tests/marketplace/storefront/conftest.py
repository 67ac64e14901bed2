"""Fixtures of the page tests: private media, and published artworks made through the gallery's services."""

from collections.abc import Callable

import pytest

from bench.synthetic_images import encode_png, synthetic_image
from marketplace.gallery import services as gallery
from tests.marketplace.subscriptions.conftest import fake_stripe  # noqa: F401  (the local Stripe stand-in)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.GENERATION_RUNS_ROOT = str(tmp_path / "runs")
    return tmp_path / "media"


@pytest.fixture
def publish(media) -> Callable[..., object]:
    """publish(artist, seed, title=…, price=…) -> a published artwork (with a personal listing when priced)."""

    def make(
        artist,
        seed: int,
        *,
        title: str | None = None,
        price: int | None = 1500,
        currency: str = "USD",
        tags: tuple[str, ...] = (),
        style: str = "",
        description: str = "",
        publish: bool = True,
    ):
        artwork = gallery.artwork_create_from_upload(
            artist=artist,
            raw=encode_png(synthetic_image(seed, size=(96, 96))),
            filename=f"{seed}.png",
            title=title or f"Work {seed}",
            tags=list(tags),
            style=style,
            description=description,
        )
        if not publish:
            return artwork
        artwork = gallery.artwork_publish(artist=artist, artwork=artwork)
        if price is not None:
            gallery.listing_create(
                artist=artist, artwork=artwork, licence_type="personal", price=price, currency=currency
            )
        artwork.refresh_from_db()
        return artwork

    return make
