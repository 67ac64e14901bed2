"""The periodic sweep: deadlines (expiry with refund, lapsed revisions), deliveries left unanswered
(auto-completion), and repair of steps a crash interrupted (generation jobs finished, payments settled).

Each commission is handled in its own transaction under its row lock, re-checking its state, so a sweep
racing a user (or another sweep) changes nothing twice; one commission's failure does not stop the others.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.jobs import FINISHED_STATES
from marketplace.commissions import conf
from marketplace.commissions.locks import lock_commission, lock_latest_delivery
from marketplace.commissions.models import Commission, CommissionState, Delivery, DeliveryState
from marketplace.commissions.services._common import (
    decline_pending_offers,
    fail_generating_deliveries,
)
from marketplace.commissions.services._history import commission_transition
from marketplace.commissions.services.briefs import commission_refund_quietly
from marketplace.commissions.services.deliveries import (
    commission_complete,
    delivery_generation_settle,
)
from marketplace.commissions.services.offers import commission_payment_sync
from marketplace.commissions.tasks import refund_commission_task

logger = logging.getLogger("atelier.commissions")
BATCH = 500


def _overdue(*, now: datetime, states: tuple[str, ...]) -> QuerySet[Commission]:
    """Past their due date, unless a delivery asked for in time is still generating (for a grace period)."""
    generating = Delivery.objects.filter(commission=OuterRef("pk"), state=DeliveryState.GENERATING)
    grace = conf.get("COMMISSION_GENERATION_GRACE")
    return Commission.objects.filter(state__in=states, due_at__lte=now).filter(
        ~Exists(generating) | Q(due_at__lte=now - grace)
    )


def _still_overdue(commission: Commission, *, now: datetime, states: tuple[str, ...]) -> bool:
    """`_overdue`, re-checked on the locked row."""
    return _overdue(now=now, states=states).filter(pk=commission.pk).exists()


def commission_expire(*, commission_pk: int, now: datetime | None = None) -> bool:
    """Expire an open brief or an awarded commission past its due date with nothing delivered; refund."""
    now = now or timezone.now()
    with transaction.atomic():
        commission = lock_commission(commission_pk)
        if not _still_overdue(commission, now=now, states=(CommissionState.OPEN, CommissionState.AWARDED)):
            return False
        paid = commission.state == CommissionState.AWARDED
        commission_transition(
            commission=commission, action="expire", note=f"Nothing was delivered by {commission.due_at.isoformat()}."
        )
        decline_pending_offers(commission, now=now)
        fail_generating_deliveries(commission, reason="The commission expired.")
        if paid:
            refund_commission_task.enqueue(commission.pk)
    if paid:
        commission_refund_quietly(commission_pk=commission_pk)
    return True


def commission_revision_lapse(*, commission_pk: int, now: datetime | None = None) -> bool:
    """A revision not delivered by its due date: the last delivery awaits the client's review again."""
    now = now or timezone.now()
    with transaction.atomic():
        commission = lock_commission(commission_pk)
        if not _still_overdue(commission, now=now, states=(CommissionState.REVISION_REQUESTED,)):
            return False
        delivery = lock_latest_delivery(commission, state=DeliveryState.REVISION_REQUESTED)
        fail_generating_deliveries(commission, reason="The revision was not delivered in time.")
        if delivery is not None:
            delivery.state = DeliveryState.DELIVERED
            delivery.save(update_fields=["state", "updated_at"])
        commission_transition(
            commission=commission,
            action="revision_lapse",
            note=f"The revision was not delivered by {commission.due_at.isoformat()}; the last "
            "delivery awaits review again.",
            data={"delivery": str(delivery.public_id) if delivery else None},
        )
    return True


def commission_auto_complete(*, commission_pk: int, now: datetime | None = None) -> bool:
    """A delivery the client left unanswered for COMMISSION_AUTO_COMPLETE_AFTER is accepted for them."""
    now = now or timezone.now()
    cutoff = now - conf.get("COMMISSION_AUTO_COMPLETE_AFTER")
    with transaction.atomic():
        commission = lock_commission(commission_pk)
        if commission.state != CommissionState.DELIVERED or commission.state_changed_at > cutoff:
            return False
        delivery = lock_latest_delivery(commission, state=DeliveryState.DELIVERED)
        if delivery is None:
            return False
        commission_complete(
            commission=commission,
            delivery=delivery,
            action="auto_complete",
            note="The delivery was not reviewed in time and was accepted automatically.",
        )
    return True


def _each(pks: list[int], work: Callable[[int], Any], label: str) -> int:
    done = 0
    for pk in pks:
        try:
            done += bool(work(pk))
        except Exception:
            logger.exception("commission sweep: %s of %s failed", label, pk)
    return done


def commissions_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """One pass of everything time-driven; returns how many commissions (or deliveries) each step moved."""
    now = now or timezone.now()
    finished = Delivery.objects.filter(state=DeliveryState.GENERATING, generation_job__state__in=FINISHED_STATES)
    stale_payment = now - conf.get("COMMISSION_PAYMENT_TIMEOUT")
    counts = {
        "deliveries_settled": _each(
            list(finished.values_list("pk", flat=True)[:BATCH]),
            lambda pk: delivery_generation_settle(delivery_pk=pk),
            "settle delivery",
        ),
        "payments_reconciled": _each(
            list(
                Commission.objects.filter(
                    state=CommissionState.PAYMENT_PENDING, state_changed_at__lte=stale_payment
                ).values_list("pk", flat=True)[:BATCH]
            ),
            lambda pk: commission_payment_sync(commission_pk=pk, stale=True).state != CommissionState.PAYMENT_PENDING,
            "payment sync",
        ),
        "expired": _each(
            list(
                _overdue(now=now, states=(CommissionState.OPEN, CommissionState.AWARDED)).values_list("pk", flat=True)[
                    :BATCH
                ]
            ),
            lambda pk: commission_expire(commission_pk=pk, now=now),
            "expire",
        ),
        "revisions_lapsed": _each(
            list(_overdue(now=now, states=(CommissionState.REVISION_REQUESTED,)).values_list("pk", flat=True)[:BATCH]),
            lambda pk: commission_revision_lapse(commission_pk=pk, now=now),
            "revision lapse",
        ),
        "auto_completed": _each(
            list(
                Commission.objects.filter(
                    state=CommissionState.DELIVERED,
                    state_changed_at__lte=now - conf.get("COMMISSION_AUTO_COMPLETE_AFTER"),
                ).values_list("pk", flat=True)[:BATCH]
            ),
            lambda pk: commission_auto_complete(commission_pk=pk, now=now),
            "auto-complete",
        ),
    }
    if any(counts.values()):
        logger.info("commission sweep: %s", counts)
    return counts


__all__ = ["commission_auto_complete", "commission_expire", "commission_revision_lapse", "commissions_sweep"]
