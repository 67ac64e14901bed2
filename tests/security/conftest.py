"""The security suite reuses the gallery's fixtures (media per test, artworks, listings, plans)."""

from tests.marketplace.gallery.conftest import (  # noqa: F401
    gallery_media,
    make_artwork,
    make_listing,
    on_pro_plan,
)
from tests.provenance.conftest import (  # noqa: F401, E402
    anvil_mine,
    anvil_node,
    chain_settings,
    register_image,
    run_chain,
)
