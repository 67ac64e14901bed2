"""Commission reads, always as the acting user.

Who sees a commission: its client; its artist (once an offer is accepted); and, while it is open, every artist
the brief is open to (all artists, or only the target artist) — the brief, its references and its history,
not other artists' offers. Anyone else gets a 404, whatever the commission's state.
"""

from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.errors import NotFound
from marketplace.commissions import ports
from marketplace.commissions.models import (
    Commission,
    CommissionEvent,
    CommissionReference,
    CommissionState,
    Delivery,
    DeliveryImage,
    Offer,
)
from marketplace.commissions.transitions import ARTIST, CLIENT

ARTIST_ROLE = "artist"  # accounts.Role.ARTIST


def _is_artist(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and getattr(user, "role", None) == ARTIST_ROLE)


def _offerable(user: Any) -> Q:
    """Open briefs `user` may offer on (not their own)."""
    return Q(state=CommissionState.OPEN) & (Q(target_artist__isnull=True) | Q(target_artist=user)) & ~Q(client=user)


def _base() -> QuerySet[Commission]:
    return Commission.objects.select_related(
        "client", "artist", "target_artist", "target_model", "payment", "accepted_offer"
    )


def commissions_visible_to(*, user: Any) -> QuerySet[Commission]:
    visible = Q(client=user) | Q(artist=user)
    if _is_artist(user):
        visible |= _offerable(user)
    return _base().filter(visible).order_by("-created_at", "-id")


def commissions_for(*, user: Any, role: str | None = None, state: str | None = None) -> QuerySet[Commission]:
    """The commissions `user` is a party to (as client, or as the artist whose offer was accepted)."""
    parties = {CLIENT: Q(client=user), ARTIST: Q(artist=user)}
    condition = parties[role] if role else parties[CLIENT] | parties[ARTIST]
    commissions = _base().filter(condition)
    if state:
        commissions = commissions.filter(state=state)
    return commissions.order_by("-created_at", "-id")


def commission_briefs_for(*, user: Any) -> QuerySet[Commission]:
    """Open briefs the artist may offer on, soonest deadline first (none for other roles)."""
    if not _is_artist(user):
        return Commission.objects.none()
    return _base().filter(_offerable(user), due_at__gt=timezone.now()).order_by("due_at", "id")


def commission_get(*, user: Any, public_id: UUID) -> Commission:
    commission = commissions_visible_to(user=user).filter(public_id=public_id).first()
    if commission is None:
        raise NotFound("No such commission.")
    return commission


def commission_role(*, commission: Commission, user: Any) -> str | None:
    """The part `user` plays: "client", "artist" (the accepted one, or before any acceptance an artist who may
    offer), or None (then they cannot see it)."""
    if commission.client_id == user.pk:
        return CLIENT
    if commission.artist_id is not None:
        return ARTIST if commission.artist_id == user.pk else None
    if commission.state == CommissionState.OPEN and _is_artist(user) and commission.target_artist_id in (None, user.pk):
        return ARTIST
    return None


def commission_is_party(*, commission: Commission, user: Any) -> bool:
    return commission.client_id == user.pk or (commission.artist_id is not None and commission.artist_id == user.pk)


def commission_party_get(*, user: Any, public_id: UUID) -> Commission:
    """A commission `user` is a party to (deliveries, payment): anyone else gets a 404."""
    commission = commissions_for(user=user).filter(public_id=public_id).first()
    if commission is None:
        raise NotFound("No such commission.")
    return commission


def commission_history(*, commission: Commission, user: Any) -> QuerySet[CommissionEvent]:
    """Every state change, for the parties. An artist browsing an open brief sees only when it was posted (not,
    say, a competitor's accepted-then-declined offer)."""
    events = commission.events.select_related("actor").order_by("created_at", "id")
    if not commission_is_party(commission=commission, user=user):
        events = events.filter(action="created")
    return events


def commission_references(*, commission: Commission) -> QuerySet[CommissionReference]:
    return commission.references.order_by("index")


def commission_reference_get(*, commission: Commission, index: int) -> CommissionReference:
    reference = commission_references(commission=commission).filter(index=index).first()
    if reference is None:
        raise NotFound("No such reference image.")
    return reference


def offers_for_commission(*, user: Any, commission: Commission) -> QuerySet[Offer]:
    """The client sees every offer on their brief; an artist sees their own."""
    offers = commission.offers.select_related("artist", "commission")
    if commission.client_id != user.pk:
        offers = offers.filter(artist=user)
    return offers.order_by("created_at", "id")


def offers_by_artist(*, user: Any, state: str | None = None) -> QuerySet[Offer]:
    offers = Offer.objects.filter(artist=user).select_related("artist", "commission")
    if state:
        offers = offers.filter(state=state)
    return offers.order_by("-created_at", "-id")


def offer_get(*, user: Any, public_id: UUID) -> Offer:
    """An offer its artist, or the client of its commission, may see."""
    offer = (
        Offer.objects.select_related("artist", "commission__client", "commission__artist")
        .filter(Q(artist=user) | Q(commission__client=user), public_id=public_id)
        .first()
    )
    if offer is None:
        raise NotFound("No such offer.")
    return offer


def deliveries_for_commission(*, commission: Commission) -> QuerySet[Delivery]:
    return commission.deliveries.select_related("generation_job").prefetch_related("images").order_by("number")


def delivery_get(*, user: Any, public_id: UUID) -> Delivery:
    """A delivery of a commission `user` is a party to."""
    delivery = (
        Delivery.objects.select_related("commission__client", "commission__artist", "generation_job")
        .prefetch_related("images")
        .filter(Q(commission__client=user) | Q(commission__artist=user), public_id=public_id)
        .first()
    )
    if delivery is None:
        raise NotFound("No such delivery.")
    return delivery


def delivery_image_get(*, delivery: Delivery, index: int) -> DeliveryImage:
    image = delivery.images.filter(index=index).first()
    if image is None:
        raise NotFound("No such image.")
    return image


def payment_waiting_for_client(*, user: Any, commission: Commission) -> Any:
    """The client's payment for an accepted offer that waits for them (3-D Secure), else None."""
    if commission.state != CommissionState.PAYMENT_PENDING or commission.client_id != getattr(user, "pk", None):
        return None
    payment = ports.latest_payment(commission=commission)
    return payment if payment is not None and payment.state == "requires_action" else None
