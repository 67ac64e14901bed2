"""Shared subscription state changes (used by the lifecycle and the renewal services; not for other apps)."""

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_datetime

from marketplace.subscriptions import conf
from marketplace.subscriptions.models import (
    FREE_PLAN_CODE,
    FREE_PLAN_DEFAULTS,
    OPEN_PAYMENT_STATES,
    Plan,
    Subscription,
    SubscriptionState,
)
from marketplace.subscriptions.periods import period_end_after
from marketplace.subscriptions.services._records import subscription_event_record
from marketplace.subscriptions.services.payments import payment_abandon

LIVE_STATES = (SubscriptionState.TRIALING, SubscriptionState.ACTIVE, SubscriptionState.PAST_DUE)


def free_plan() -> Plan:
    return Plan.objects.get_or_create(code=FREE_PLAN_CODE, defaults=FREE_PLAN_DEFAULTS)[0]


def live_subscription(user: Any) -> Subscription | None:
    return Subscription.objects.select_related("plan").filter(user=user, state__in=LIVE_STATES).first()


def create_free_subscription(*, user: Any, now: datetime, data: dict | None = None) -> Subscription | None:
    plan = free_plan()
    subscription = Subscription(
        user=user,
        plan=plan,
        state=SubscriptionState.ACTIVE,
        billing_anchor=now,
        current_period_start=now,
        current_period_end=period_end_after(anchor=now, moment=now, period=plan.period),
    )
    try:
        with transaction.atomic():
            subscription.save()
            subscription_event_record(subscription=subscription, type="created", data=data)
    except IntegrityError:  # another request created it first: the partial unique constraint decides
        return None
    return subscription


def release_stale_pending(subscription: Subscription, now: datetime) -> None:
    """A charge that never finished (crashed worker, abandoned 3-D Secure) stops blocking after a while."""
    payment = subscription.pending_payment
    if payment is None:
        return
    stale = payment.created_at <= now - conf.get("SUBSCRIPTION_PENDING_PAYMENT_TIMEOUT")
    retry_due = (
        subscription.state == SubscriptionState.PAST_DUE
        and subscription.next_payment_attempt_at
        and subscription.next_payment_attempt_at <= now
    )
    if payment.state in OPEN_PAYMENT_STATES and not (stale or retry_due):
        return
    if payment.state in OPEN_PAYMENT_STATES:
        payment_abandon(payment=payment)
    subscription.pending_payment = None
    subscription.save(update_fields=["pending_payment", "updated_at"])


def new_period(*, plan: Plan, now: datetime) -> dict[str, datetime]:
    return {"anchor": now, "start": now, "end": period_end_after(anchor=now, moment=now, period=plan.period)}


def set_period(subscription: Subscription, period: dict[str, Any]) -> None:
    def as_dt(value: Any) -> datetime:
        return parse_datetime(value) if isinstance(value, str) else value

    subscription.billing_anchor = as_dt(period["anchor"])
    subscription.current_period_start = as_dt(period["start"])
    subscription.current_period_end = as_dt(period["end"])


def apply_plan(
    subscription: Subscription,
    *,
    plan: Plan,
    period: dict[str, Any] | None,
    actor: Any,
    type: str,
    data: dict[str, Any],
    state: str | None = None,
) -> None:
    previous_state, previous_plan = subscription.state, subscription.plan
    subscription.plan = plan
    if period is not None:
        set_period(subscription, period)
    subscription.state = state or (
        SubscriptionState.TRIALING if subscription.state == SubscriptionState.TRIALING else SubscriptionState.ACTIVE
    )
    subscription.pending_plan = None
    subscription.cancel_at_period_end = False
    subscription.pending_payment = None
    subscription.save()
    subscription_event_record(
        subscription=subscription,
        type=type,
        actor=actor,
        from_state=previous_state,
        data={"from_plan": previous_plan.code, "to_plan": plan.code, **data},
    )


def end_subscription(subscription: Subscription, *, reason: str, actor: Any, now: datetime) -> Subscription:
    """Cancel now and fall back to a fresh free subscription (returned)."""
    previous = subscription.state
    subscription.state = SubscriptionState.CANCELLED
    subscription.cancelled_at, subscription.cancellation_reason = now, reason
    subscription.cancel_at_period_end = False
    subscription.pending_plan = subscription.pending_payment = None
    subscription.next_payment_attempt_at = None
    subscription.save()
    subscription_event_record(
        subscription=subscription, type="cancelled", actor=actor, from_state=previous, data={"reason": reason}
    )
    fallback = create_free_subscription(
        user=subscription.user, now=now, data={"fallback_from": str(subscription.public_id)}
    )
    return fallback or live_subscription(subscription.user)
