"""What the artwork page shows, read through the gallery's and provenance's selectors as the acting user: the
work (a draft only for who may see it, as the API), its listings with their terms, the provenance panel and
more works by the artist. A constant number of queries whatever the history's length."""

from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse

from marketplace.gallery import services as gallery_services
from marketplace.gallery.browse import BrowseFilters
from marketplace.gallery.licence_terms import terms_for
from marketplace.gallery.models import ArtworkState, ListingState
from marketplace.gallery.selectors import artwork_get_visible, artworks_browse, listings_for_artwork
from provenance import selectors as provenance
from provenance.proofs.encoding import from_hex0x
from provenance.proofs.merkle import verify_proof

MORE_BY_ARTIST = 6
USER_REF = "accounts.user:"
RECORD_STATES = {
    "pending": ("Registered", "Waiting to be put in the next anchoring batch.", "warn"),
    "batched": ("In a batch", "Its batch's Merkle root is being sent to the chain.", "warn"),
    "anchored": ("Anchored", "The batch's Merkle root is on chain, waiting for confirmations.", "warn"),
    "confirmed": ("Confirmed", "The batch's Merkle root is on chain with enough confirmations.", "ok"),
}


def checkout_url(listing_id: Any) -> str:
    try:
        return reverse("storefront:checkout", args=[listing_id])
    except NoReverseMatch:  # the buyer pages are not there (yet): the path they answer at
        return f"/checkout/{listing_id}"


def _people(refs: set[str]) -> dict[str, Any]:
    """Provenance names people by reference (`accounts.user:<uuid>`): their public names in one query."""
    ids = [ref.removeprefix(USER_REF) for ref in refs if ref and ref.startswith(USER_REF)]
    users = get_user_model().objects.filter(public_id__in=ids).only("public_id", "display_name", "role")
    return {f"{USER_REF}{user.public_id}": user for user in users}


def provenance_panel(*, record: Any) -> dict[str, Any] | None:
    if record is None:
        return None
    anchor = provenance.anchor_of(record=record)
    history = provenance.owner_history(record=record)
    people = _people(
        {record.owner, record.creator}
        | {entry["to_ref"] for entry in history}
        | {entry["from_ref"] for entry in history if entry["from_ref"]}
    )
    for entry in history:
        entry["to"] = people.get(entry["to_ref"])
        entry["from"] = people.get(entry["from_ref"]) if entry["from_ref"] else None
    proof_ok = None
    if anchor is not None:  # the stored proof, checked here against the stored root (the chain: /verify)
        proof_ok = verify_proof(
            root=from_hex0x(anchor["root"]), leaf=from_hex0x(anchor["leaf"]), proof=record.proof_nodes
        )
    label, meaning, tone = RECORD_STATES.get(record.state, (record.state, "", "warn"))
    return {
        "record": record,
        "anchor": anchor,
        "history": history,
        "proof_ok": proof_ok,
        "state_label": label,
        "state_meaning": meaning,
        "state_tone": tone,
        "owner": people.get(record.owner),
        "certificate_url": f"/api/v1/provenance/{record.public_id}/certificate",
    }


def artwork_page_context(*, user: Any, public_id: UUID) -> dict[str, Any]:
    artwork = artwork_get_visible(user=user, public_id=public_id)
    gallery_services.artwork_record_view(artwork=artwork, viewer=user)
    listings = [
        {
            "listing": listing,
            "terms": terms_for(listing.licence_type),
            "active": listing.state == ListingState.ACTIVE,
            "buy_url": checkout_url(listing.public_id),
        }
        for listing in listings_for_artwork(user=user, artwork=artwork)
    ]
    more = artworks_browse(
        filters=BrowseFilters(artist=artwork.artist.public_id), cursor=None, page_size=MORE_BY_ARTIST + 1
    ).rows
    return {
        "artwork": artwork,
        "published": artwork.state == ArtworkState.PUBLISHED,
        "is_artist": getattr(user, "pk", None) == artwork.artist_id,
        "listings": listings,
        "for_sale": any(item["active"] for item in listings),
        "provenance": provenance_panel(record=artwork.provenance_record),
        "more": [card for card in more if card.public_id != str(artwork.public_id)][:MORE_BY_ARTIST],
        "owner_is_artist": artwork.owner_id == artwork.artist_id,
    }
