"""Gallery reads, always as the acting user: a draft is the artist's alone, an order its buyer's, and anything
the user may not see is simply not found (404).

Browse (`artworks_browse`) is public and built for a large catalogue: one statement per page, a keyset range
scan on a partial index of published works (see browse.py and keyset.py).
"""

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from core.errors import NotFound
from marketplace.gallery.browse import (
    DEFAULT_SORT,
    LICENCE_COLUMNS,
    SORTS,
    BrowseFilters,
    browse_card_rows,
    browse_rows,
)
from marketplace.gallery.keyset import Page, cursor_decode, keyset_page
from marketplace.gallery.models import (
    Artwork,
    ArtworkState,
    GrantState,
    LicenceGrant,
    Listing,
    ListingState,
    Order,
)

__all__ = ["DEFAULT_SORT", "LICENCE_COLUMNS", "SORTS", "BrowseFilters"]  # re-exported for the API


def artworks_browse(*, filters: BrowseFilters, cursor: str | None, page_size: int) -> Page:
    """A page of published artworks (browse cards), in one query. Public: takes no user."""
    key = SORTS[filters.sort]
    position = cursor_decode(cursor, sort=filters.sort, key=key) if cursor else None

    def fetch(order, after, limit):
        return browse_rows(filters=filters, order=order, after=after, limit=limit)

    return keyset_page(fetch, sort=filters.sort, key=key, cursor=position, size=page_size)


def artworks_browse_cards(*, filters: BrowseFilters, cursor: str | None, page_size: int) -> Page:
    """artworks_browse's page as pre-rendered cards (browse.CardRow), for the API's JSON."""
    key = SORTS[filters.sort]
    position = cursor_decode(cursor, sort=filters.sort, key=key) if cursor else None

    def fetch(order, after, limit):
        return browse_card_rows(filters=filters, order=order, after=after, limit=limit)

    return keyset_page(fetch, sort=filters.sort, key=key, cursor=position, size=page_size)


def _with_detail_relations(rows: QuerySet[Artwork]) -> QuerySet[Artwork]:
    return rows.select_related("artist", "owner", "derived_from", "provenance_record__batch__transaction")


def artwork_is_holder(*, user: Any, artwork: Artwork) -> bool:
    """The artist, or someone with an active licence grant for the work."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.pk == artwork.artist_id:
        return True
    return LicenceGrant.objects.filter(artwork=artwork, holder=user, state=GrantState.ACTIVE).exists()


def artwork_get_visible(*, user: Any, public_id: UUID) -> Artwork:
    """A published work for anyone; a draft or withdrawn work only for its artist, its licence holders and
    support staff."""
    artwork = _with_detail_relations(Artwork.objects.filter(public_id=public_id)).first()
    if artwork is None:
        raise NotFound("No such artwork.")
    hidden = artwork.state != ArtworkState.PUBLISHED and not getattr(user, "is_staff", False)
    if hidden and not artwork_is_holder(user=user, artwork=artwork):
        raise NotFound("No such artwork.")
    return artwork


def artworks_of_artist(*, user: Any) -> QuerySet[Artwork]:
    """The artist's own works in every state, newest first."""
    return (
        Artwork.objects.filter(artist=user).select_related("artist", "provenance_record").order_by("-created_at", "-id")
    )


def artwork_get_own(*, user: Any, public_id: UUID) -> Artwork:
    artwork = _with_detail_relations(Artwork.objects.filter(artist=user, public_id=public_id)).first()
    if artwork is None:
        raise NotFound("No such artwork.")
    return artwork


def listings_for_artwork(*, user: Any, artwork: Artwork) -> QuerySet[Listing]:
    """Active listings for everyone; the artist also sees closed ones."""
    listings = Listing.objects.filter(artwork=artwork).order_by("price", "id")
    if getattr(user, "pk", None) != artwork.artist_id:
        listings = listings.filter(state=ListingState.ACTIVE)
    return listings


def listing_get_visible(*, user: Any, public_id: UUID) -> Listing:
    """A listing of a published work (open or closed), or any listing of the user's own works."""
    listing = Listing.objects.select_related("artwork").filter(public_id=public_id).first()
    if listing is None or (
        listing.artwork.state != ArtworkState.PUBLISHED and getattr(user, "pk", None) != listing.artwork.artist_id
    ):
        raise NotFound("No such listing.")
    return listing


def listing_get_own(*, user: Any, public_id: UUID) -> Listing:
    listing = Listing.objects.select_related("artwork").filter(public_id=public_id, artwork__artist=user).first()
    if listing is None:
        raise NotFound("No such listing.")
    return listing


def _orders() -> QuerySet[Order]:
    return Order.objects.select_related("artwork", "listing", "buyer", "grant")


def orders_for(*, user: Any) -> QuerySet[Order]:
    return _orders().filter(buyer=user).order_by("-created_at", "-id")


def order_get(*, user: Any, public_id: UUID) -> Order:
    order = orders_for(user=user).filter(public_id=public_id).first()
    if order is None:
        raise NotFound("No such order.")
    return order


def order_get_for_staff(*, user: Any, public_id: UUID) -> Order:
    """Support staff act on any order; anyone else only on their own."""
    orders = _orders() if getattr(user, "is_staff", False) else orders_for(user=user)
    order = orders.filter(public_id=public_id).first()
    if order is None:
        raise NotFound("No such order.")
    return order


def sales_for(*, user: Any) -> QuerySet[Order]:
    """Orders for the artist's works (what their buyers paid, and what they were credited)."""
    return _orders().filter(artwork__artist=user).order_by("-created_at", "-id")


def grants_for(*, user: Any) -> QuerySet[LicenceGrant]:
    return LicenceGrant.objects.filter(holder=user).select_related("artwork", "order").order_by("-created_at", "-id")


# --- public artist profiles ---------------------------------------------------------------------------------


def _public_artists() -> QuerySet:
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q, Sum
    from django.db.models.functions import Coalesce

    from marketplace.accounts.models import Role

    published = Q(artworks__state=ArtworkState.PUBLISHED)
    return (
        get_user_model()
        .objects.filter(role=Role.ARTIST, is_active=True)
        .annotate(
            published_count=Count("artworks", filter=published),
            sales_total=Coalesce(Sum("artworks__sales_count", filter=published), 0),
        )
    )


def artists_public() -> QuerySet:
    """Active artists with at least one published work, best-selling first (public: no emails leave here —
    serializers and pages list the fields they show)."""
    return _public_artists().filter(published_count__gt=0).order_by("-sales_total", "-published_count", "id")


def artist_public_profile(*, public_id: UUID) -> Any:
    """An active artist (with published_count and sales_total), or NotFound: a buyer or an unknown id alike."""
    artist = _public_artists().filter(public_id=public_id).first()
    if artist is None:
        raise NotFound("No such artist.")
    return artist


def artist_models_on_sale(*, artist: Any) -> list[dict[str, Any]]:
    """The artist's models that published works came from: id, name, resolution and how many works, in one
    query (a model is named publicly only through works the artist chose to publish)."""
    from django.db.models import Count

    rows = (
        Artwork.objects.filter(artist=artist, state=ArtworkState.PUBLISHED, generated_image__isnull=False)
        .values(
            "generated_image__model_version__public_id",
            "generated_image__model_version__name",
            "generated_image__model_version__resolution",
        )
        .annotate(works=Count("id"))
        .order_by("-works", "generated_image__model_version__name")
    )
    return [
        {
            "id": str(row["generated_image__model_version__public_id"]),
            "name": row["generated_image__model_version__name"],
            "resolution": row["generated_image__model_version__resolution"],
            "works": row["works"],
        }
        for row in rows
    ]
