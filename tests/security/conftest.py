"""The security suite reuses the gallery's fixtures (media per test, artworks, listings, plans)."""

from tests.marketplace.gallery.conftest import (  # noqa: F401
    gallery_media,
    make_artwork,
    make_listing,
    on_pro_plan,
)
