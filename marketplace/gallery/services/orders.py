"""Orders: placing one (the listing row locked, so an exclusive licence is reserved by one order at a time),
paying it through the payments service, fulfilment (licence grant, the artist's ledger credit, and for an
exclusive licence the ownership transfer through provenance), cancellation, refunds and expiry.

Payment calls go to the network, so they run between transactions: the order is written and committed first,
then charged, then settled under row locks. A payment that succeeds for an order that can no longer be
fulfilled (cancelled or expired meanwhile, listing closed) is refunded through an outbox task row.
Lock order everywhere: artwork, then listing(s), then order. An unpaid order reserves nothing; an
exclusive listing is held for a buyer only while their charge is in flight (see `order_place`, `_hold_take`).
"""

import math
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import AtelierError, Conflict, InvalidInput, NotFound
from core.events import event_emit
from marketplace import fees
from marketplace.gallery import conf, locks, ports
from marketplace.gallery.errors import GalleryError
from marketplace.gallery.models import (
    OPEN_ORDER_STATES,
    PAID_ORDER_STATES,
    Artwork,
    ArtworkState,
    GrantState,
    LicenceGrant,
    LicenceType,
    Listing,
    ListingState,
    Order,
    OrderState,
)
from marketplace.gallery.services.artworks import artwork_record_sale
from marketplace.gallery.services.listings import artwork_pricing_refresh, listings_close
from marketplace.gallery.services.order_states import order_check_transition, order_record_created, order_transition
from marketplace.gallery.tasks import refund_order_payment_task

# The platform keeps the sale rate of marketplace.fees (rounded down) of every sale; the artist is credited the rest.
PLATFORM_FEE_BPS = fees.SALE_FEE_BASIS_POINTS


def platform_fee(amount: int) -> int:
    return fees.platform_fee(amount, basis_points=PLATFORM_FEE_BPS)


def payment_reference(order: Order) -> str:
    return f"order:{order.public_id}"


@dataclass(frozen=True)
class OrderPayment:
    order: Order
    payment: ports.PaymentOutcome | None


def _stale(order: Order) -> bool:
    cutoff = timezone.now() - conf.get("GALLERY_ORDER_PENDING_TIMEOUT")
    return order.state == OrderState.PENDING and order.created_at < cutoff


@dataclass(frozen=True)
class OrderPlacement:
    order: Order
    created: bool  # False: the buyer's own unpaid order for this listing, returned to be paid (again)


def order_place(*, buyer: Any, listing: Listing) -> OrderPlacement:
    """Place an order for a listing at its current price, or return the buyer's own unpaid one for it.

    An unpaid order reserves nothing (finding 12.7): an exclusive licence goes to the first payment that
    succeeds, and other buyers' unpaid orders never block a purchase. The buyer's own unpaid order is returned
    so a declined card is retried on the same order; one that went stale or whose price changed is cancelled and
    replaced. A buyer keeps at most GALLERY_MAX_PENDING_ORDERS unpaid orders open (checked under the listing lock,
    so one buyer's simultaneous requests for different listings may pass it by a few; a buyer-row lock taken
    before the listing deadlocked concurrent checkouts).
    """
    with transaction.atomic():
        # artwork before listing, as fulfilment locks them: the order's insert takes a key-share lock on both
        artwork = locks.lock_artwork(listing.artwork_id)
        locked = locks.lock_listing(listing.pk)
        if buyer.pk in (artwork.artist_id, artwork.owner_id):
            raise InvalidInput(
                "You cannot buy a licence for your own artwork.", field="listing", code=GalleryError.OWN_ARTWORK
            )
        if locked.state != ListingState.ACTIVE:
            raise Conflict("This listing is closed.", code=GalleryError.LISTING_CLOSED, listing=str(locked.public_id))
        if artwork.state != ArtworkState.PUBLISHED:
            raise Conflict("This artwork is not on sale.", code=GalleryError.ARTWORK_NOT_ON_SALE)
        mine = locks.lock_first_order(listing=locked, buyer=buyer, state__in=OPEN_ORDER_STATES)
        if mine is not None and mine.state != OrderState.PENDING:
            raise Conflict(
                "You already hold this licence.",
                code=GalleryError.ALREADY_ORDERED,
                order=str(mine.public_id),
                state=mine.state,
            )
        if mine is not None:
            if not _stale(mine) and (mine.amount, mine.currency) == (locked.price, locked.currency):
                return OrderPlacement(order=mine, created=False)
            order_transition(
                order=mine,
                action="cancel",
                actor=buyer,
                note="expired unpaid" if _stale(mine) else "replaced: the price changed",
            )
        if locked.licence_type == LicenceType.EXCLUSIVE:
            if Order.objects.filter(listing=locked, state__in=PAID_ORDER_STATES).exists():
                raise Conflict(
                    "This exclusive licence has already been sold.",
                    code=GalleryError.EXCLUSIVE_UNAVAILABLE,
                    listing=str(locked.public_id),
                )
            if LicenceGrant.objects.filter(artwork=artwork, state=GrantState.ACTIVE).exists():
                raise Conflict(
                    "An exclusive licence cannot be sold while other licences are held.",
                    code=GalleryError.LICENCES_OUTSTANDING,
                )
        cutoff = timezone.now() - conf.get("GALLERY_ORDER_PENDING_TIMEOUT")
        open_orders = Order.objects.filter(buyer=buyer, state=OrderState.PENDING, created_at__gte=cutoff).count()
        if open_orders >= conf.get("GALLERY_MAX_PENDING_ORDERS"):
            raise Conflict(
                f"You have {open_orders} unpaid orders open; pay or cancel one before ordering more.",
                code=GalleryError.TOO_MANY_OPEN_ORDERS,
                limit=conf.get("GALLERY_MAX_PENDING_ORDERS"),
            )
        fee = platform_fee(locked.price)
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    buyer=buyer,
                    listing=locked,
                    artwork=artwork,
                    licence_type=locked.licence_type,
                    amount=locked.price,
                    currency=locked.currency,
                    platform_fee=fee,
                    artist_amount=locked.price - fee,
                )
        except IntegrityError:  # the unique constraints behind the locks
            raise Conflict("This licence is already ordered.", code=GalleryError.ALREADY_ORDERED) from None
        order_record_created(order=order, actor=buyer)
    return OrderPlacement(order=order, created=True)


def order_create(*, buyer: Any, listing: Listing) -> Order:
    """`order_place`, for callers that only need the order."""
    return order_place(buyer=buyer, listing=listing).order


def _hold_take(*, order: Order) -> None:
    """Hold an exclusive listing for this order while its charge is in flight, so two buyers are not both
    charged for one work. Short (GALLERY_CHECKOUT_HOLD), one per buyer at a time, never renewed by a payment
    that waits for the payer (3-D Secure): `order_pay` releases it as soon as the provider answers."""
    now = timezone.now()
    with transaction.atomic():
        listing = locks.lock_listing(order.listing_id)
        if listing.state != ListingState.ACTIVE:
            raise Conflict("This listing is closed.", code=GalleryError.LISTING_CLOSED, order=str(order.public_id))
        held = Order.objects.filter(state=OrderState.PENDING, hold_expires_at__gt=now).exclude(pk=order.pk)
        holder = held.filter(listing=listing).order_by("-hold_expires_at").first()
        if holder is not None:
            wait = max(1, math.ceil((holder.hold_expires_at - now).total_seconds()))
            raise Conflict(
                "Another buyer is paying for this exclusive licence right now. Try again in a moment.",
                code=GalleryError.EXCLUSIVE_RESERVED,
                retry_after_seconds=wait,
                order=str(order.public_id),
            )
        if held.filter(buyer_id=order.buyer_id).exists():
            raise Conflict(
                "Finish the payment you already started before paying for another exclusive licence.",
                code=GalleryError.CHECKOUT_IN_PROGRESS,
                order=str(order.public_id),
            )
        Order.objects.filter(pk=order.pk, state=OrderState.PENDING).update(
            hold_expires_at=now + conf.get("GALLERY_CHECKOUT_HOLD")
        )


def _hold_release(*, order: Order) -> None:
    Order.objects.filter(pk=order.pk, hold_expires_at__isnull=False).update(hold_expires_at=None)


def _replace_unfinished_attempt(*, order: Order) -> None:
    """Paying again while an earlier attempt still waits for the payer (3-D Secure) gives that attempt up, so
    another card can be used; if it completes after all, its money is refunded."""
    if order.payment_id is not None:
        ports.payment_abandon_open(payer=order.buyer, payment_id=order.payment_id)


def order_pay(*, buyer: Any, order: Order, payment_method: str, return_url: str = "") -> OrderPayment:
    """Charge the buyer. A synchronous success fulfils the order now; an asynchronous payment (3-D Secure, a
    pending provider) leaves it pending until the `payment_succeeded` signal (`return_url`: where the buyer's
    browser comes back from the provider's authentication page). A decline is a 402 and leaves the
    order pending, so the buyer may pay with another method (until the order expires). For an exclusive
    licence the listing is held only during the charge; the first payment to succeed takes the licence."""
    current = Order.objects.select_related("listing", "artwork", "buyer").get(pk=order.pk)
    order_check_transition(order=current, action="pay")  # paying twice is a 409 here
    _raise_if_not_on_sale(current)
    exclusive = current.licence_type == LicenceType.EXCLUSIVE
    if exclusive:
        _hold_take(order=current)
    try:
        _replace_unfinished_attempt(order=current)
        try:
            outcome = ports.payment_charge(
                payer=buyer,
                amount=current.amount,
                currency=current.currency,
                reference=payment_reference(current),
                payment_method=payment_method,
                description=f"{current.licence_type} licence: {current.artwork.title}"[:200],
                return_url=return_url,
            )
        except AtelierError as exc:
            exc.extra.setdefault("order", str(current.public_id))
            raise
        if not outcome.succeeded:
            Order.objects.filter(pk=current.pk, state=OrderState.PENDING).update(payment_id=outcome.id)
            current.refresh_from_db()
            return OrderPayment(order=current, payment=outcome)
        settled = order_payment_succeeded(order=current, payment_id=outcome.id)
    finally:
        if exclusive:
            _hold_release(order=current)
    if settled.state == OrderState.CANCELLED:
        raise Conflict(
            "The licence was no longer available when your payment completed; it is being refunded.",
            code=GalleryError.LISTING_CLOSED,
            order=str(settled.public_id),
        )
    return OrderPayment(order=settled, payment=outcome)


def _raise_if_not_on_sale(order: Order) -> None:
    if order.listing.state != ListingState.ACTIVE:
        raise Conflict("This listing is closed.", code=GalleryError.LISTING_CLOSED, order=str(order.public_id))
    if order.artwork.state != ArtworkState.PUBLISHED:
        raise Conflict(
            "This artwork is not on sale.", code=GalleryError.ARTWORK_NOT_ON_SALE, order=str(order.public_id)
        )


def _refund_later(*, order: Order, payment_id: UUID, reason: str) -> None:
    refund_order_payment_task.enqueue(order.buyer_id, str(payment_id), reason)


def order_payment_succeeded(*, order: Order, payment_id: UUID) -> Order:
    """Apply a successful payment: pay and fulfil the order. Idempotent (the synchronous path and the signal
    both call it); money for an order that can no longer be fulfilled is refunded."""
    with transaction.atomic():
        artwork = locks.lock_artwork(order.artwork_id)
        exclusive = order.licence_type == LicenceType.EXCLUSIVE
        listings = locks.lock_listings(**({"artwork": artwork} if exclusive else {"pk": order.listing_id}))
        locked = locks.lock_order(order.pk, related=("buyer",), only_self=True)
        if locked.state != OrderState.PENDING:
            applied = locked.state != OrderState.CANCELLED and locked.payment_id == payment_id
            if not applied:  # cancelled or expired meanwhile, or already paid by another payment
                _refund_later(order=locked, payment_id=payment_id, reason=f"order {locked.state}")
            return locked
        locked.payment_id = payment_id
        listing = next(item for item in listings if item.pk == locked.listing_id)
        locked.artwork, locked.listing = artwork, listing
        if listing.state != ListingState.ACTIVE or artwork.state != ArtworkState.PUBLISHED:
            order_transition(order=locked, action="cancel", note="the listing closed before the payment completed")
            _refund_later(order=locked, payment_id=payment_id, reason="listing closed")
            return locked
        order_transition(order=locked, action="pay", actor=locked.buyer)
        _fulfil(order=locked, artwork=artwork, listings=listings)
    return locked


def licence_with_article(licence_type: str) -> str:
    """ "a personal licence", "an exclusive licence": ledger lines are read by people."""
    article = "an" if licence_type[:1].lower() in "aeiou" else "a"
    return f"{article} {licence_type} licence"


def _fulfil(*, order: Order, artwork: Artwork, listings: list[Listing]) -> None:
    buyer, exclusive = order.buyer, order.licence_type == LicenceType.EXCLUSIVE
    grant = LicenceGrant.objects.create(order=order, artwork=artwork, holder=buyer, licence_type=order.licence_type)
    ports.licence_register(grant=grant, artwork=artwork, order=order)
    ports.ledger_credit(
        user=artwork.artist,
        amount=order.artist_amount,
        currency=order.currency,
        reference=payment_reference(order),
        memo=f"Sale of {licence_with_article(order.licence_type)} for “{artwork.title}”",
    )
    artwork_record_sale(artwork_pk=artwork.pk, delta=1)
    if exclusive:
        ports.ownership_transfer(artwork=artwork, to_user=buyer, reference=f"gallery.order:{order.public_id}")
        listings_close(listings=listings, reason="exclusive_sold")
        others = locks.lock_orders(listing__in=listings, state=OrderState.PENDING)
        for other in others.exclude(pk=order.pk):
            order_transition(order=other, action="cancel", note="the exclusive licence was sold to another buyer")
        artwork.owner = buyer
        artwork.save(update_fields=["owner", "updated_at"])
        artwork_pricing_refresh(artwork=artwork)
    order_transition(order=order, action="fulfil")
    event_emit(
        type="sale.completed",
        user=artwork.artist,
        payload={
            "order": str(order.public_id),
            "artwork": str(artwork.public_id),
            "licence_type": order.licence_type,
            "amount": order.amount,
            "currency": order.currency,
            "artist_amount": order.artist_amount,
            "platform_fee": order.platform_fee,
        },
    )


def order_payment_failed(*, order: Order, payment_id: UUID) -> Order:
    """An asynchronous payment failed: the order stays pending (the buyer may pay again) unless it expired."""
    Order.objects.filter(pk=order.pk, state=OrderState.PENDING, payment_id=payment_id).update(
        payment_id=None, hold_expires_at=None
    )
    return Order.objects.get(pk=order.pk)


def order_for_payment(*, order_public_id: str) -> Order | None:
    try:
        public_id = UUID(order_public_id)
    except ValueError:  # not one of ours
        return None
    return Order.objects.filter(public_id=public_id).first()


def order_cancel(*, order: Order, actor: Any, note: str = "") -> Order:
    """Cancel an unpaid order. A payment still completing for it is refunded when it lands."""
    with transaction.atomic():
        locked = locks.lock_order(order.pk, related=("artwork", "listing", "buyer"))
        order_transition(order=locked, action="cancel", actor=actor, note=note or "cancelled")
    return locked


def order_refund(*, order: Order, actor: Any, reason: str = "") -> Order:
    """Refund a paid or fulfilled order (support staff): refund the payment, revoke the licence, claw back the
    artist's credit. A fulfilled exclusive is a 409: its ownership moved on chain."""
    current = Order.objects.get(pk=order.pk)
    order_check_transition(order=current, action="refund")
    if current.payment_id is None:
        raise NotFound("The order's payment is missing.", code=GalleryError.PAYMENT_MISSING)
    ports.payment_refund(
        payer=current.buyer, payment_id=current.payment_id, reason=reason or "order refunded", actor=actor
    )
    with transaction.atomic():
        artwork = locks.lock_artwork(current.artwork_id)
        locked = locks.lock_order(current.pk, related=("buyer", "listing"))
        if locked.state == OrderState.REFUNDED:
            return locked
        was_fulfilled = locked.state == OrderState.FULFILLED
        order_transition(order=locked, action="refund", actor=actor, note=reason)
        if was_fulfilled:
            LicenceGrant.objects.filter(order=locked).update(
                state=GrantState.REVOKED, revoked_at=timezone.now(), updated_at=timezone.now()
            )
            ports.ledger_debit(
                user=artwork.artist,
                amount=locked.artist_amount,
                currency=locked.currency,
                reference=f"{payment_reference(locked)}:refund",
                memo=f"Refund of {licence_with_article(locked.licence_type)} for “{artwork.title}”",
            )
            artwork_record_sale(artwork_pk=artwork.pk, delta=-1)
        event_emit(
            type="sale.refunded",
            user=artwork.artist,
            payload={
                "order": str(locked.public_id),
                "artwork": str(artwork.public_id),
                "amount": locked.amount,
                "currency": locked.currency,
                "artist_amount": locked.artist_amount if was_fulfilled else 0,
            },
        )
    return locked


def orders_expire_stale(*, limit: int = 500) -> int:
    """Cancel unpaid orders past GALLERY_ORDER_PENDING_TIMEOUT; one whose payment did succeed (a lost signal)
    is settled instead."""
    cutoff = timezone.now() - conf.get("GALLERY_ORDER_PENDING_TIMEOUT")
    expired = 0
    stale = Order.objects.filter(state=OrderState.PENDING, created_at__lt=cutoff).select_related("buyer")
    for order in stale.order_by("pk")[:limit]:
        if (
            order.payment_id is not None
            and ports.payment_state(payer=order.buyer, payment_id=order.payment_id).succeeded
        ):
            order_payment_succeeded(order=order, payment_id=order.payment_id)
            continue
        with transaction.atomic():
            locked = locks.lock_order(order.pk)
            if locked.state == OrderState.PENDING:
                order_transition(order=locked, action="cancel", note="expired unpaid")
                expired += 1
    return expired
