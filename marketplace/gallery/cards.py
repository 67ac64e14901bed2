"""Browse cards pre-rendered on write: each artwork keeps its API card as JSON text in `Artwork.card`, so a
browse page is string joins instead of per-row conversion (bench.api: the uncached list's row-to-JSON step fell
from ~0.6 ms to ~0.3 ms a page; DESIGN.md, "Browse").

What an artwork's own writes change is in the text; what other rows change stays live and is spliced in at
read time from the browse statement's columns: the artist (id and display name, from the user row), popularity
(bumped by views and sales with F() updates) and the provenance status (the record's state). The splice points
are SPLICE characters: orjson writes every control character inside a string as an escape, so SPLICE never
occurs in the JSON itself, and `card_from` rebuilds exactly what `serializers.card_json` would write.

Every service that writes a card's own fields calls `card_text` before saving (artworks: create, update,
publish, withdraw; listings: the pricing refresh); bulk writers (migrations, bench seeds, tests that write rows
directly) call `artwork_cards_rebuild`. tests/conftest.py checks after every database test that no artwork's
card differs from `card_text(artwork)`, so a writer that forgets fails the suite.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

SPLICE = "\x01"
PIECES = 4  # SPLICE characters in a card: artist, base URL, popularity, provenance status
_LINE_SEPARATORS = (("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
_LICENCES = (("offers_personal", "personal"), ("offers_commercial", "commercial"), ("offers_exclusive", "exclusive"))


def json_text(value: Any) -> str:
    text = orjson.dumps(value).decode()
    for raw, escaped in _LINE_SEPARATORS:  # as DRF's renderer writes them (and browse_page_json)
        if raw in text:
            text = text.replace(raw, escaped)
    return text


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def card_text(artwork: Any) -> str:
    """The artwork's card with SPLICE where the live values go. Takes anything with the Artwork fields (a
    migration's historical model too)."""
    public_id = str(artwork.public_id)
    price = None if artwork.min_price is None else {"amount": artwork.min_price, "currency": artwork.currency}
    licences = [name for column, name in _LICENCES if getattr(artwork, column)]
    return "".join(
        [
            f'{{"id":"{public_id}","title":{json_text(artwork.title)},"artist":',
            SPLICE,
            f',"style":{json_text(artwork.style)},"tags":{json_text(list(artwork.tags))},"preview_url":"',
            SPLICE,
            f'/api/v1/artworks/{public_id}/preview","width":{int(artwork.width)},"height":{int(artwork.height)},'
            f'"price":{json_text(price)},"licence_types":{json_text(licences)},"popularity":',
            SPLICE,
            ',"provenance_status":',
            SPLICE,
            f',"published_at":{json_text(_iso(artwork.published_at))}}}',
        ]
    )


def artist_json(public_id: str, display_name: str) -> str:
    return f'{{"id":"{public_id}","display_name":{json_text(display_name)}}}'


def card_from(text: str, *, artist: str, base: str, popularity: int, provenance_status: str | None) -> str:
    """The card JSON: `text` (from card_text) with the live values in. `artist` is artist_json's, `base` the
    scheme and host as they go inside a JSON string."""
    head, after_artist, after_base, after_popularity, tail = text.split(SPLICE)
    status = "null" if provenance_status is None else json_text(provenance_status)
    return f"{head}{artist}{after_artist}{base}{after_base}{popularity}{after_popularity}{status}{tail}"


def artwork_cards_rebuild(artworks: Iterable[Any] | None = None, *, model: Any = None, batch: int = 1_000) -> int:
    """Re-render the cards of `artworks` (default: every artwork) and store those that changed; returns how
    many. For writers that bypass the services: migrations (pass their historical `model`), seeds, repairs."""
    if model is None:
        from marketplace.gallery.models import Artwork as model
    rows = model.objects.order_by("pk").iterator(chunk_size=batch) if artworks is None else artworks
    changed, pending = 0, []
    for artwork in rows:
        text = card_text(artwork)
        if artwork.card != text:
            artwork.card = text
            pending.append(artwork)
        if len(pending) >= batch:
            model.objects.bulk_update(pending, ["card"])
            changed, pending = changed + len(pending), []
    if pending:
        model.objects.bulk_update(pending, ["card"])
        changed += len(pending)
    return changed


def artworks_with_stale_cards(*, model: Any = None) -> list[Any]:
    """Artworks whose stored card is not what card_text renders now (the suite checks this stays empty)."""
    if model is None:
        from marketplace.gallery.models import Artwork as model
    return [artwork for artwork in model.objects.order_by("pk") if artwork.card != card_text(artwork)]
