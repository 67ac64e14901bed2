"""Listings: a licence type on offer for an artwork at a price. Every change re-derives the artwork's browse
columns (lowest active price, currency, licence types on offer) under the artwork's row lock."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput, InvalidTransition, PaymentRequired
from core.events import event_emit
from marketplace.gallery import conf, locks, ports
from marketplace.gallery.browse_cache import browse_changed
from marketplace.gallery.cards import card_text
from marketplace.gallery.errors import GalleryError
from marketplace.gallery.models import (
    Artwork,
    ArtworkState,
    GrantState,
    LicenceGrant,
    LicenceType,
    Listing,
    ListingState,
)

MAX_PRICE = 99_999_999  # minor units: the payments service's own per-charge ceiling
COMMERCIAL_TYPES = (LicenceType.COMMERCIAL, LicenceType.EXCLUSIVE)


def _price_or_400(price: Any) -> int:
    if isinstance(price, bool) or not isinstance(price, int) or not 0 < price <= MAX_PRICE:
        raise InvalidInput(f"Price must be a whole number of minor units from 1 to {MAX_PRICE}.", field="price")
    return price


def _currency_or_400(currency: Any) -> str:
    currency = str(currency or "").upper()
    if currency not in conf.get("GALLERY_CURRENCIES"):
        raise InvalidInput(f"Currency must be one of {', '.join(conf.get('GALLERY_CURRENCIES'))}.", field="currency")
    return currency


def artwork_pricing_refresh(*, artwork: Artwork) -> None:
    """Re-derive the denormalised browse columns from the active listings (caller holds the artwork lock)."""
    active = list(
        Listing.objects.filter(artwork=artwork, state=ListingState.ACTIVE).values_list(
            "licence_type", "price", "currency"
        )
    )
    types = {licence for licence, _, _ in active}
    artwork.min_price = min((price for _, price, _ in active), default=None)
    artwork.currency = active[0][2] if active else ""
    artwork.offers_personal = LicenceType.PERSONAL in types
    artwork.offers_commercial = LicenceType.COMMERCIAL in types
    artwork.offers_exclusive = LicenceType.EXCLUSIVE in types
    artwork.card = card_text(artwork)
    artwork.save(
        update_fields=[
            "min_price",
            "currency",
            "offers_personal",
            "offers_commercial",
            "offers_exclusive",
            "card",
            "updated_at",
        ]
    )
    browse_changed()


def _lock_artwork_for_listing(artist: Any, artwork: Artwork, action: str) -> Artwork:
    locked = locks.lock_artwork(artwork.pk)
    if locked.state == ArtworkState.WITHDRAWN:
        raise InvalidTransition(entity="artwork", state=locked.state, action=action)
    if locked.owner_id != artist.pk:
        raise Conflict(
            "The work now belongs to the buyer of its exclusive licence.", code=GalleryError.OWNERSHIP_TRANSFERRED
        )
    return locked


def listing_create(*, artist: Any, artwork: Artwork, licence_type: str, price: int, currency: str) -> Listing:
    """Offer a licence. Commercial and exclusive licences need a plan that allows them (402 otherwise); an
    artwork has at most one active listing per licence type, all in one currency; an exclusive licence cannot
    be offered while non-exclusive licences are held."""
    if licence_type not in LicenceType.values:
        raise InvalidInput(f"Licence type must be one of {', '.join(LicenceType.values)}.", field="licence_type")
    price, currency = _price_or_400(price), _currency_or_400(currency)
    if licence_type in COMMERCIAL_TYPES and not ports.allows_commercial_licences(user=artist):
        reason = f"Your plan does not include {licence_type} licences; upgrade to a plan with commercial licences."
        raise PaymentRequired(reason, code=GalleryError.PLAN_UPGRADE_REQUIRED, reason=reason, licence_type=licence_type)
    with transaction.atomic():
        locked = _lock_artwork_for_listing(artist, artwork, "list")
        active = list(Listing.objects.filter(artwork=locked, state=ListingState.ACTIVE))
        same = next((listing for listing in active if listing.licence_type == licence_type), None)
        if same is not None:
            raise Conflict(
                f"This artwork already has an active {licence_type} listing; change its price instead.",
                code=GalleryError.LISTING_EXISTS,
                listing=str(same.public_id),
            )
        if active and active[0].currency != currency:
            raise Conflict(
                f"This artwork's listings are priced in {active[0].currency}.",
                code=GalleryError.CURRENCY_MISMATCH,
                currency=active[0].currency,
            )
        if (
            licence_type == LicenceType.EXCLUSIVE
            and LicenceGrant.objects.filter(artwork=locked, state=GrantState.ACTIVE).exists()
        ):
            raise Conflict(
                "An exclusive licence cannot be offered while other licences are held.",
                code=GalleryError.LICENCES_OUTSTANDING,
            )
        try:
            with transaction.atomic():
                listing = Listing.objects.create(
                    artwork=locked, licence_type=licence_type, price=price, currency=currency
                )
        except IntegrityError:
            raise Conflict(
                f"This artwork already has an active {licence_type} listing.", code=GalleryError.LISTING_EXISTS
            ) from None
        artwork_pricing_refresh(artwork=locked)
        event_emit(
            type="listing.created",
            user=artist,
            payload={
                "listing": str(listing.public_id),
                "artwork": str(locked.public_id),
                "licence_type": licence_type,
                "price": price,
                "currency": currency,
            },
        )
    return listing


def _lock_listing(artist: Any, listing: Listing, action: str) -> tuple[Artwork, Listing]:
    artwork = locks.lock_artwork(listing.artwork_id)  # lock order: artwork, then listing
    locked = locks.lock_listing(listing.pk)
    if locked.state != ListingState.ACTIVE:
        raise InvalidTransition(entity="listing", state=locked.state, action=action)
    if artwork.owner_id != artist.pk:
        raise Conflict(
            "The work now belongs to the buyer of its exclusive licence.", code=GalleryError.OWNERSHIP_TRANSFERRED
        )
    return artwork, locked


def listing_update_price(*, artist: Any, listing: Listing, price: int) -> Listing:
    """A new price applies to orders placed from now on; orders already placed keep theirs."""
    price = _price_or_400(price)
    with transaction.atomic():
        artwork, locked = _lock_listing(artist, listing, "reprice")
        locked.price = price
        locked.save(update_fields=["price", "updated_at"])
        artwork_pricing_refresh(artwork=artwork)
    return locked


def listing_close(*, artist: Any, listing: Listing) -> Listing:
    with transaction.atomic():
        artwork, locked = _lock_listing(artist, listing, "close")
        listings_close(listings=[locked], reason="closed_by_artist")
        artwork_pricing_refresh(artwork=artwork)
    return locked


def listings_close(*, listings: list[Listing], reason: str) -> None:
    """Close locked listings (the caller re-derives the artwork's pricing)."""
    now = timezone.now()
    for listing in listings:
        if listing.state == ListingState.ACTIVE:
            listing.state, listing.closed_at, listing.close_reason = ListingState.CLOSED, now, reason
            listing.save(update_fields=["state", "closed_at", "close_reason", "updated_at"])
