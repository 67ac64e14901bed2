"""Offers: artists send them on open briefs; the client declines or accepts one. Accepting charges the client
(the platform holds the funds) and awards the commission once the payment has succeeded.

Acceptance runs in three steps so that no network call happens inside a transaction: claim (the commission
moves to payment_pending under its row lock, so of two offers accepted at once exactly one wins), charge, then
`commission_payment_sync` applies the payment's outcome — also called when the payment settles later
(3-D Secure) and by the periodic sweep, so a crash between the steps is repaired.
"""

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput, InvalidTransition
from marketplace import fees
from marketplace.commissions import ports
from marketplace.commissions.conf import DEFAULT_REVISIONS, MAX_REVISIONS
from marketplace.commissions.errors import CommissionError
from marketplace.commissions.locks import lock_commission, lock_offer
from marketplace.commissions.models import Commission, CommissionState, Offer, OfferState
from marketplace.commissions.services._common import (
    check_amount,
    check_not_overdue,
    decline_pending_offers,
    role_of,
)
from marketplace.commissions.services._history import commission_emit, commission_transition
from marketplace.commissions.services.briefs import REFUNDABLE_STATES, commission_refund_quietly
from marketplace.commissions.transitions import ARTIST, CLIENT, OFFER_ACTIONS, transition_check

logger = logging.getLogger("atelier.commissions")


def _offer_actor(*, offer: Offer, commission: Commission, user: Any, action: str) -> None:
    """Only the offer's artist withdraws it; only the commission's client declines or accepts it."""
    allowed = OFFER_ACTIONS[action]
    is_allowed = (offer.artist_id == user.pk) if allowed == ARTIST else (commission.client_id == user.pk)
    if not is_allowed:
        raise Forbidden(
            f"Only the {'artist who sent it' if allowed == ARTIST else 'client'} may {action} an offer.",
            code=CommissionError.NOT_ALLOWED_FOR_ROLE,
            allowed_roles=[allowed],
        )


def _check_pending(offer: Offer, action: str) -> None:
    if offer.state != OfferState.PENDING:
        raise InvalidTransition(entity="offer", state=offer.state, action=action)


def offer_create(
    *,
    commission: Commission,
    artist: Any,
    price: int,
    delivery_by: datetime,
    message: str = "",
    revisions: int = DEFAULT_REVISIONS,
) -> Offer:
    """An artist's offer on an open brief. The price may differ from the budget either way (the budget guides;
    the client decides); it is in the brief's currency. Delivery must be promised by the brief's deadline."""
    price = check_amount(price, field="price")
    if isinstance(revisions, bool) or not isinstance(revisions, int) or not 0 <= revisions <= MAX_REVISIONS:
        raise InvalidInput(f"revisions must be between 0 and {MAX_REVISIONS}.", field="revisions")
    if not isinstance(delivery_by, datetime) or timezone.is_naive(delivery_by):
        raise InvalidInput("delivery_by must be a date and time with a UTC offset.", field="delivery_by")
    with transaction.atomic():
        locked = lock_commission(commission.pk)
        role = role_of(commission=locked, user=artist)
        if role == CLIENT:
            raise Forbidden(
                "You cannot send an offer on your own brief.",
                code=CommissionError.NOT_ALLOWED_FOR_ROLE,
                allowed_roles=[ARTIST],
            )
        if locked.state != CommissionState.OPEN:
            raise InvalidTransition(entity="commission", state=locked.state, action="send an offer on")
        now = timezone.now()
        check_not_overdue(locked, now=now, action="send an offer")
        if delivery_by <= now:
            raise InvalidInput("delivery_by must be in the future.", field="delivery_by")
        if delivery_by > locked.due_at:
            raise InvalidInput(
                f"delivery_by must be on or before the deadline ({locked.due_at.isoformat()}).", field="delivery_by"
            )
        if Offer.objects.filter(commission=locked, artist=artist, state=OfferState.PENDING).exists():
            raise Conflict(
                "You already have a pending offer on this brief; withdraw it to send another.",
                code=CommissionError.OFFER_EXISTS,
            )
        try:
            with transaction.atomic():
                offer = Offer.objects.create(
                    commission=locked,
                    artist=artist,
                    price=price,
                    currency=locked.currency,
                    message=message.strip(),
                    delivery_by=delivery_by,
                    revisions=revisions,
                )
        except IntegrityError:  # a concurrent offer by the same artist
            raise Conflict(
                "You already have a pending offer on this brief.", code=CommissionError.OFFER_EXISTS
            ) from None
        commission_emit(
            commission=locked,
            event="offer_received",
            audience=(CLIENT,),
            actor=artist,
            offer=str(offer.public_id),
            price=price,
            currency=offer.currency,
            delivery_by=delivery_by.isoformat(),
            revisions=revisions,
        )
    return offer


def offer_withdraw(*, offer: Offer, artist: Any) -> Offer:
    with transaction.atomic():
        commission = lock_commission(offer.commission_id)
        locked = lock_offer(offer.pk)
        _offer_actor(offer=locked, commission=commission, user=artist, action="withdraw")
        _check_pending(locked, "withdraw")
        locked.state, locked.decided_at = OfferState.WITHDRAWN, timezone.now()
        locked.save(update_fields=["state", "decided_at", "updated_at"])
    return locked


def offer_decline(*, offer: Offer, client: Any) -> Offer:
    with transaction.atomic():
        commission = lock_commission(offer.commission_id)
        locked = lock_offer(offer.pk)
        _offer_actor(offer=locked, commission=commission, user=client, action="decline")
        _check_pending(locked, "decline")
        locked.state, locked.decided_at = OfferState.DECLINED, timezone.now()
        locked.save(update_fields=["state", "decided_at", "updated_at"])
    return locked


def offer_accept(*, offer: Offer, client: Any, payment_method: str, return_url: str = "") -> Commission:
    """Accept `offer` and charge the client its price. Returns the commission: `awarded` when the charge
    succeeded, `payment_pending` when the payer must complete an action (the payment's `client_secret`, or
    its `action_url` for a browser that gave `return_url`).
    A decline is a 402 and leaves the brief open. Call outside a transaction."""
    if not payment_method:
        raise InvalidInput("A payment method is required.", field="payment_method")
    with transaction.atomic():
        commission = lock_commission(offer.commission_id)
        role = role_of(commission=commission, user=client)
        locked = lock_offer(offer.pk)
        transition_check(state=commission.state, action="accept_offer", actor=role)
        _check_pending(locked, "accept")
        now = timezone.now()
        check_not_overdue(commission, now=now, action="accept an offer")
        commission.artist, commission.accepted_offer = locked.artist, locked
        commission.price = locked.price
        commission.platform_fee = fees.platform_fee(locked.price, basis_points=fees.COMMISSION_FEE_BASIS_POINTS)
        commission.revisions_allowed, commission.revisions_used = locked.revisions, 0
        locked.state, locked.decided_at = OfferState.ACCEPTED, now
        locked.save(update_fields=["state", "decided_at", "updated_at"])
        commission_transition(
            commission=commission,
            action="accept_offer",
            actor=client,
            actor_role=role,
            data={"offer": str(locked.public_id), "price": locked.price, "currency": locked.currency},
        )
    try:
        ports.charge(commission=commission, payment_method=payment_method, return_url=return_url)
    except Exception:
        commission_payment_sync(commission_pk=commission.pk, charge_over=True)
        raise
    return commission_payment_sync(commission_pk=commission.pk, charge_over=True)


def _award(commission: Commission, payment: Any) -> None:
    commission.payment = payment
    decline_pending_offers(commission, now=timezone.now())
    commission_transition(
        commission=commission,
        action="payment_succeeded",
        data={
            "offer": str(commission.accepted_offer.public_id),
            "payment": str(payment.public_id),
            "price": commission.price,
            "currency": commission.currency,
        },
    )


def _reopen(commission: Commission, payment: Any) -> None:
    offer = lock_offer(commission.accepted_offer.pk)
    offer.state, offer.decided_at = OfferState.PENDING, None
    offer.save(update_fields=["state", "decided_at", "updated_at"])
    commission.artist = commission.accepted_offer = commission.payment = None
    commission.price = commission.platform_fee = None
    commission.revisions_allowed = 0
    reason = (payment.failure_reason or payment.failure_code) if payment is not None else ""
    commission_transition(
        commission=commission,
        action="payment_failed",
        note="The payment did not complete; the brief is open again.",
        data={
            "offer": str(offer.public_id),
            "payment": str(payment.public_id) if payment else None,
            "reason": reason[:200],
        },
    )


def commission_payment_sync(*, commission_pk: int, charge_over: bool = False, stale: bool = False) -> Commission:
    """Apply the outcome of the payment for a commission waiting for one: paid → awarded; failed → open again
    (the offer pending again); still open → wait. With `charge_over` (the charging request has returned) or
    `stale` (it has been waiting too long) a missing payment also reopens it; `stale` abandons an open one.
    A payment that succeeds for a commission cancelled meanwhile is refunded. Idempotent."""
    refund = False
    with transaction.atomic():
        commission = lock_commission(commission_pk)
        if commission.state != CommissionState.PAYMENT_PENDING:
            payment = ports.latest_payment(commission=commission)
            refund = (
                commission.state in REFUNDABLE_STATES
                and payment is not None
                and payment.state in ports.PAID_PAYMENT_STATES
            )
        else:
            payment = ports.latest_payment(commission=commission, since=commission.state_changed_at)
            if payment is not None and payment.state in ports.OPEN_PAYMENT_STATES and stale:
                ports.abandon(payment=payment)
                payment.refresh_from_db()
            if payment is not None and payment.state in ports.PAID_PAYMENT_STATES:
                _award(commission, payment)
            elif payment is not None and payment.state in ports.OPEN_PAYMENT_STATES:
                if commission.payment_id != payment.pk:
                    commission.payment = payment
                    commission.save(update_fields=["payment", "updated_at"])
            elif payment is not None or charge_over or stale:
                _reopen(commission, payment)
    if refund:
        commission_refund_quietly(commission_pk=commission_pk)
    return Commission.objects.select_related("client", "artist", "payment").get(pk=commission_pk)
