"""Briefs: posting one (with private reference images), cancelling it, and refunding what was paid."""

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput
from core.events import event_emit
from marketplace.commissions import conf, ports
from marketplace.commissions.locks import lock_commission
from marketplace.commissions.models import Commission, CommissionReference, CommissionState
from marketplace.commissions.selectors import ARTIST_ROLE
from marketplace.commissions.services._common import (
    check_amount,
    check_currency,
    check_future,
    decline_pending_offers,
    fail_generating_deliveries,
    role_of,
)
from marketplace.commissions.services._files import clean_uploads, delete_quietly, save_exact
from marketplace.commissions.services._history import (
    commission_emit,
    commission_transition,
    event_payload,
    history_record,
)
from marketplace.commissions.tasks import refund_commission_task
from marketplace.commissions.transitions import CLIENT, SYSTEM

logger = logging.getLogger("atelier.commissions")

REFUNDABLE_STATES = (CommissionState.CANCELLED, CommissionState.EXPIRED)


def _resolve_target(*, client: Any, target_artist: UUID | None, target_model: UUID | None) -> tuple[Any, Any]:
    artist = model = None
    if target_model is not None:
        model = ports.model_for_brief(public_id=target_model)
        if model is None or model.owner.role != ARTIST_ROLE or not model.owner.is_active:
            raise InvalidInput("No such model.", field="target_model")
        if model.owner_id == client.pk:
            raise InvalidInput("A brief cannot name your own model.", field="target_model")
        artist = model.owner
    if target_artist is not None:
        named = ports.artist_for_brief(public_id=target_artist)
        if named is None:
            raise InvalidInput("No such artist.", field="target_artist")
        if named.pk == client.pk:
            raise InvalidInput("A brief cannot be addressed to yourself.", field="target_artist")
        if artist is not None and artist.pk != named.pk:
            raise InvalidInput("The target model belongs to another artist.", field="target_model")
        artist = named
    return artist, model


def commission_create(
    *,
    client: Any,
    description: str,
    budget: int,
    currency: str,
    deadline: datetime,
    title: str = "",
    style: str = "",
    target_artist: UUID | None = None,
    target_model: UUID | None = None,
    references: Sequence[Any] = (),
) -> Commission:
    """Post a brief, open to every artist, or only to `target_artist` / the owner of `target_model`.
    References are validated and re-encoded before anything is stored."""
    now = timezone.now()
    budget = check_amount(budget, field="budget")
    currency = check_currency(currency)
    deadline = check_future(deadline, field="deadline", now=now)
    if not description or not description.strip():
        raise InvalidInput("Describe what you want.", field="description")
    artist, model = _resolve_target(client=client, target_artist=target_artist, target_model=target_model)
    cleaned = clean_uploads(files=references, field="references", max_count=conf.get("COMMISSION_MAX_REFERENCES"))
    public_id, paths = uuid.uuid4(), []
    try:
        for index, item in enumerate(cleaned):
            paths.append(save_exact(f"commissions/references/{public_id}/{index:02d}.png", item.image.data))
        with transaction.atomic():
            commission = Commission.objects.create(
                public_id=public_id,
                client=client,
                target_artist=artist,
                target_model=model,
                title=title.strip(),
                description=description.strip(),
                style=style.strip(),
                budget=budget,
                currency=currency,
                deadline=deadline,
                due_at=deadline,
                state_changed_at=now,
            )
            CommissionReference.objects.bulk_create(
                [
                    CommissionReference(
                        commission=commission,
                        index=index,
                        file=path,
                        original_name=item.name,
                        sha256=item.image.sha256,
                        width=item.image.width,
                        height=item.image.height,
                    )
                    for index, (item, path) in enumerate(zip(cleaned, paths, strict=True))
                ]
            )
            history_record(
                commission=commission,
                action="created",
                actor=client,
                actor_role=CLIENT,
                from_state="",
                data={"references": len(paths)},
            )
            commission_emit(
                commission=commission,
                event="created",
                audience=(CLIENT,),
                actor=client,
                budget=budget,
                currency=currency,
                deadline=deadline.isoformat(),
            )
            if artist is not None:  # a brief addressed to one artist: they should hear of it
                event_emit(
                    type="commission.created",
                    user=artist,
                    payload=event_payload(
                        commission=commission,
                        actor=client,
                        budget=budget,
                        currency=currency,
                        deadline=deadline.isoformat(),
                    ),
                )
    except BaseException:
        delete_quietly(paths)
        raise
    return commission


def commission_cancel(*, commission: Commission, actor: Any, note: str = "") -> Commission:
    """Cancel before delivery: the client while open, waiting for payment or awarded; the artist once awarded
    (backing out). Whatever was paid is refunded: now if the provider answers, else by the queued task."""
    with transaction.atomic():
        locked = lock_commission(commission.pk)
        role = role_of(commission=locked, user=actor)
        money_involved = locked.state in (CommissionState.PAYMENT_PENDING, CommissionState.AWARDED)
        commission_transition(commission=locked, action="cancel", actor=actor, actor_role=role, note=note)
        now = timezone.now()
        decline_pending_offers(locked, now=now)
        fail_generating_deliveries(locked, reason="The commission was cancelled.")
        if money_involved:  # the outbox: the refund happens even if this process dies right after commit
            refund_commission_task.enqueue(locked.pk)
    if money_involved:
        commission_refund_quietly(commission_pk=locked.pk)
    return Commission.objects.get(pk=locked.pk)


def commission_refund(*, commission_pk: int) -> bool:
    """Give a cancelled or expired commission's money back (idempotent: True only if this call refunded).
    A charge still waiting for the payer is abandoned instead. Call outside a transaction (network)."""
    commission = Commission.objects.select_related("client", "payment").get(pk=commission_pk)
    if commission.state not in REFUNDABLE_STATES:
        return False
    payment = commission.payment or ports.latest_payment(commission=commission)
    if payment is None:
        return False
    if payment.state in ports.OPEN_PAYMENT_STATES:
        ports.abandon(payment=payment)
        return False
    amount = payment.refundable_amount
    if not ports.refund_all(payment=payment, reason=f"commission {commission.state}"):
        return False
    with transaction.atomic():
        locked = lock_commission(commission_pk)
        history_record(
            commission=locked,
            action="refunded",
            actor=None,
            actor_role=SYSTEM,
            from_state=locked.state,
            data={"payment": str(payment.public_id), "amount": amount, "currency": payment.currency},
        )
    return True


def commission_refund_quietly(*, commission_pk: int) -> None:
    """Try the refund now; a failure is logged and left to the queued refund task (or to staff)."""
    try:
        commission_refund(commission_pk=commission_pk)
    except Exception:
        logger.exception("refund of commission %s failed; the queued refund task tries again", commission_pk)


__all__ = ["commission_cancel", "commission_create", "commission_refund", "commission_refund_quietly"]
