"""Reads: plans, the user's plan and quotas, usage, payments and the payout ledger — always as the acting user."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet, Sum

from core.errors import NotFound
from generation.metering import Limits
from marketplace.subscriptions import models
from marketplace.subscriptions.models import (
    FREE_PLAN_CODE,
    FREE_PLAN_DEFAULTS,
    LedgerEntry,
    Payment,
    Payout,
    Plan,
    Subscription,
    SubscriptionState,
    UsageEntry,
    UsageKind,
)

# Other apps' ports test payments against these here, never in subscriptions' models.
OPEN_PAYMENT_STATES, PAID_PAYMENT_STATES = models.OPEN_PAYMENT_STATES, models.PAID_PAYMENT_STATES
PaymentPurpose = models.PaymentPurpose

_QUOTA_FIELDS = {
    UsageKind.GENERATION: "generations_per_period",
    UsageKind.TRAINING: "training_runs_per_period",
    UsageKind.PUBLICATION: "publications_per_period",
}


@dataclass(frozen=True)
class Quota:
    kind: str
    limit: int | None  # None: unlimited
    used: int
    remaining: int | None
    resets_at: datetime | None  # None while past due: quotas reset when the overdue period is paid


def plans_public() -> QuerySet[Plan]:
    return Plan.objects.filter(is_public=True).order_by("rank", "price")


def plan_quota(*, plan: Plan, kind: str) -> int | None:
    return getattr(plan, _QUOTA_FIELDS[kind])


def plan_for(*, user: Any) -> Plan:
    """The plan whose limits apply to `user` now (free when they never subscribed). Creates nothing."""
    subscription = (
        Subscription.objects.select_related("plan").exclude(state=SubscriptionState.CANCELLED).filter(user=user).first()
    )
    if subscription is not None:
        return subscription.plan
    return Plan.objects.filter(code=FREE_PLAN_CODE).first() or Plan(code=FREE_PLAN_CODE, **FREE_PLAN_DEFAULTS)


def plan_limits(*, user: Any) -> Limits:
    plan = plan_for(user=user)
    return Limits(
        max_resolution=plan.max_resolution,
        max_dataset_images=plan.max_dataset_images,
        max_dataset_bytes=plan.max_dataset_bytes,
        max_training_minutes=plan.max_training_minutes,
        max_training_work=plan.max_training_work,
    )


def plan_allows_commercial_licences(*, user: Any) -> bool:
    """May `user` sell commercial licences? (gallery listings ask this)."""
    return plan_for(user=user).allows_commercial_licences


def usage_used(*, subscription: Subscription, kind: str) -> int:
    total = UsageEntry.objects.filter(
        subscription=subscription, kind=kind, period_start=subscription.current_period_start
    ).aggregate(total=Sum("units"))
    return max(total["total"] or 0, 0)


def subscription_quotas(*, subscription: Subscription) -> dict[str, Quota]:
    resets_at = None if subscription.state == SubscriptionState.PAST_DUE else subscription.current_period_end
    quotas = {}
    for kind in UsageKind.values:
        limit = plan_quota(plan=subscription.plan, kind=kind)
        used = usage_used(subscription=subscription, kind=kind)
        remaining = None if limit is None else max(limit - used, 0)
        quotas[kind] = Quota(kind=kind, limit=limit, used=used, remaining=remaining, resets_at=resets_at)
    return quotas


def subscriptions_due(*, now: datetime, limit: int = 500) -> list[int]:
    """Subscriptions whose period ended, and past-due ones whose next payment attempt has come."""
    due = Q(state__in=[SubscriptionState.ACTIVE, SubscriptionState.TRIALING], current_period_end__lte=now) | Q(
        state=SubscriptionState.PAST_DUE, next_payment_attempt_at__lte=now
    )
    return list(Subscription.objects.filter(due).order_by("pk").values_list("pk", flat=True)[:limit])


def usage_entries_for(
    *, user: Any, kind: str | None = None, subscription: Subscription | None = None
) -> QuerySet[UsageEntry]:
    """The user's usage ledger, newest first; with `subscription`, only its current period."""
    entries = UsageEntry.objects.filter(user=user)
    if kind:
        entries = entries.filter(kind=kind)
    if subscription is not None:
        entries = entries.filter(subscription=subscription, period_start=subscription.current_period_start)
    return entries.order_by("-created_at", "-id")


def payments_for(*, user: Any) -> QuerySet[Payment]:
    return Payment.objects.filter(payer=user).order_by("-created_at", "-id")


def payment_get(*, user: Any, public_id: UUID) -> Payment:
    payment = payments_for(user=user).filter(public_id=public_id).first()
    if payment is None:
        raise NotFound("No such payment.")
    return payment


def ledger_entries_for(*, user: Any) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(user=user).order_by("-created_at", "-id")


def ledger_balance(*, user: Any) -> dict[str, int]:
    """The user's payout balance per currency, in minor units (e.g. {"USD": 12_300})."""
    rows = LedgerEntry.objects.filter(user=user).values("currency").annotate(total=Sum("amount")).order_by("currency")
    return {row["currency"]: row["total"] for row in rows}


def payouts_for(*, user: Any) -> QuerySet:
    return Payout.objects.filter(user=user).order_by("-created_at", "-id")


def payout_get(*, user: Any, public_id: UUID) -> Any:
    payout = payouts_for(user=user).filter(public_id=public_id).first()
    if payout is None:
        raise NotFound("No such payout.")
    return payout


# --- platform statistics (staff dashboard) -------------------------------------------------------------------


def subscriptions_active_by_plan() -> dict[str, int]:
    """Live subscriptions (trialing, active, past due) per plan name, every plan listed."""
    from django.db.models import Count

    counts = {plan.name: 0 for plan in Plan.objects.order_by("price", "name")}
    live = Subscription.objects.exclude(state="cancelled").values("plan__name").annotate(n=Count("id"))
    counts.update({row["plan__name"]: row["n"] for row in live})
    return counts


def revenue_per_day(*, since: datetime) -> list[dict[str, Any]]:
    """Money taken per day (UTC), currency and purpose: succeeded payments minus what was refunded of them."""
    from django.db.models import Count, F
    from django.db.models.functions import TruncDate

    rows = (
        Payment.objects.filter(succeeded_at__gte=since, state__in=["succeeded", "partially_refunded", "refunded"])
        .annotate(day=TruncDate("succeeded_at"))
        .values("day", "currency", "purpose")
        .annotate(count=Count("id"), gross=Sum("amount"), net=Sum(F("amount") - F("amount_refunded")))
        .order_by("day")
    )
    return list(rows)
