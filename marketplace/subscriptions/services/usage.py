"""The usage ledger: consumption is checked and recorded under the subscription's row lock, so concurrent
requests can never spend past the quota; refunds are once per reference and never exceed what was consumed."""

import math
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput, PaymentRequired, QuotaExceeded
from marketplace.subscriptions import locks
from marketplace.subscriptions.errors import SubscriptionError
from marketplace.subscriptions.models import Subscription, SubscriptionState, UsageEntry, UsageEntryType, UsageKind
from marketplace.subscriptions.selectors import plan_quota, usage_used
from marketplace.subscriptions.services.subscriptions import subscription_lock_current


def _validate(*, kind: str, units: Any, reference: str) -> None:
    if kind not in UsageKind.values:
        raise InvalidInput(f"Unknown usage kind {kind!r}.", field="kind")
    if not isinstance(units, int) or isinstance(units, bool) or units < 1:
        raise InvalidInput("Units must be a positive integer.", field="units")
    if not reference or len(reference) > 200:
        raise InvalidInput("A reference of 1-200 characters is required.", field="reference")


def usage_consume(*, user: Any, kind: str, units: int, reference: str, now: datetime | None = None) -> UsageEntry:
    """Spend `units` of the user's `kind` quota for `reference` (e.g. "generation_job:<uuid>"), once.

    Runs in the caller's transaction when there is one (the quota stays reserved only if it commits).
    Over quota: QuotaExceeded (429) with kind, limit, remaining, requested, resets_at and Retry-After;
    PaymentRequired (402, `subscription_past_due`) instead while a renewal is unpaid. A reference already
    consumed is a Conflict (409, `usage_reference_reused`).
    """
    _validate(kind=kind, units=units, reference=reference)
    now = now or timezone.now()
    with transaction.atomic():
        subscription = subscription_lock_current(user=user, now=now)
        if UsageEntry.objects.filter(user=user, kind=kind, reference=reference, type=UsageEntryType.CONSUME).exists():
            raise Conflict(
                f"{reference} has already consumed {kind} quota.", code=SubscriptionError.USAGE_REFERENCE_REUSED
            )
        limit = plan_quota(plan=subscription.plan, kind=kind)
        used = usage_used(subscription=subscription, kind=kind)
        if limit is not None and used + units > limit:
            _raise_exhausted(subscription=subscription, kind=kind, limit=limit, used=used, units=units, now=now)
        return UsageEntry.objects.create(
            user=user,
            subscription=subscription,
            kind=kind,
            units=units,
            reference=reference,
            period_start=subscription.current_period_start,
        )


def _raise_exhausted(
    *, subscription: Subscription, kind: str, limit: int, used: int, units: int, now: datetime
) -> None:
    remaining = max(limit - used, 0)
    fields = {"kind": kind, "limit": limit, "remaining": remaining, "requested": units}
    if subscription.state == SubscriptionState.PAST_DUE:
        raise PaymentRequired(
            "Your subscription is past due: pay the overdue period to use more.",
            code=SubscriptionError.SUBSCRIPTION_PAST_DUE,
            resets_at=None,
            **fields,
        )
    resets_at = subscription.current_period_end
    wait = max(math.ceil((resets_at - now).total_seconds()), 1)
    raise QuotaExceeded(
        f"This needs {units} {kind} unit(s) and {remaining} of {limit} remain this period.",
        resets_at=resets_at.isoformat().replace("+00:00", "Z"),
        retry_after_seconds=wait,
        **fields,
    )


def usage_refund(*, user: Any, kind: str, units: int, reference: str) -> UsageEntry | None:
    """Give back up to `units` consumed for `reference` (a failed or cancelled job). Once per reference and
    never more than was consumed; returns the refund entry, or None when there was nothing (more) to refund."""
    _validate(kind=kind, units=units, reference=reference)
    with transaction.atomic():
        consumed = UsageEntry.objects.filter(
            user=user, kind=kind, reference=reference, type=UsageEntryType.CONSUME
        ).first()
        if consumed is None:
            return None
        locks.lock_subscription_if_any(consumed.subscription_id)
        if UsageEntry.objects.filter(user=user, kind=kind, reference=reference, type=UsageEntryType.REFUND).exists():
            return None
        try:
            with transaction.atomic():
                return UsageEntry.objects.create(
                    user=user,
                    subscription_id=consumed.subscription_id,
                    kind=kind,
                    type=UsageEntryType.REFUND,
                    units=-min(units, consumed.units),
                    reference=reference,
                    period_start=consumed.period_start,
                )
        except IntegrityError:  # a concurrent refund of the same reference won
            return None
