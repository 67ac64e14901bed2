"""Subscription lifecycle: the lazy free subscription, upgrades (immediate, prorated), downgrades (at period
end), cancel/resume, renewal with retries, and the payment settlement hook.

Every change locks the subscription row first; a charge is recorded as `pending_payment` and run outside the
transaction, and its settlement (`subscription_payment_settled`, under the same lock) applies the change.

Proration (an upgrade within the same billing interval): charge (new price − old price) × unused / period,
on microseconds, rounded half up to the minor unit. From the free plan, or to a plan with another interval,
a new period starts now: the full new price, less the unused part of the old price (same rounding).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from marketplace.subscriptions.errors import SubscriptionError
from marketplace.subscriptions.locks import lock_subscription
from marketplace.subscriptions.models import (
    OPEN_PAYMENT_STATES,
    Payment,
    PaymentPurpose,
    Plan,
    Subscription,
    SubscriptionState,
)
from marketplace.subscriptions.periods import prorate
from marketplace.subscriptions.services._records import subscription_event_record
from marketplace.subscriptions.services._state import (
    apply_plan,
    create_free_subscription,
    end_subscription,
    live_subscription,
    new_period,
    release_stale_pending,
)
from marketplace.subscriptions.services.payments import payment_begin, payment_execute, payment_raise_if_failed
from marketplace.subscriptions.services.renewals import renew_with_payment, subscription_renew


@dataclass(frozen=True)
class PlanChange:
    """What `subscription_change_plan` did: `upgraded`, `trial_started`, `downgrade_scheduled`, `kept`,
    `renewed` (an overdue period paid), or `requires_action` (see `payment.client_secret`)."""

    subscription: Subscription
    outcome: str
    payment: Payment | None = None


def _locally_renewable(subscription: Subscription) -> bool:
    """Ending or renewing into a free plan needs no provider: done on read, without waiting for the sweep."""
    target = subscription.pending_plan or subscription.plan
    return subscription.cancel_at_period_end or target.is_free


def subscription_current(*, user: Any, now: datetime | None = None) -> Subscription:
    """The user's live subscription; created on the free plan the first time (race-safe). A period that
    ended and needs no charge (free, or ending) is rolled over here."""
    now = now or timezone.now()
    subscription = live_subscription(user)
    if subscription is None:
        subscription = create_free_subscription(user=user, now=now) or live_subscription(user)
    if (
        subscription.state in (SubscriptionState.ACTIVE, SubscriptionState.TRIALING)
        and subscription.current_period_end <= now
        and _locally_renewable(subscription)
    ):
        subscription = subscription_renew(subscription=subscription, now=now)
        if subscription.state == SubscriptionState.CANCELLED:
            subscription = live_subscription(user)
    return subscription


def subscription_lock_current(*, user: Any, now: datetime | None = None) -> Subscription:
    """The live subscription, locked (`SELECT … FOR UPDATE`). Call inside a transaction."""
    now = now or timezone.now()
    for _ in range(3):
        current = subscription_current(user=user, now=now)
        locked = lock_subscription(current.pk)
        if locked.state != SubscriptionState.CANCELLED:
            return locked
    raise Conflict("The subscription changed while we worked on it; retry.", code=SubscriptionError.SUBSCRIPTION_BUSY)


def _ensure_no_charge_in_flight(subscription: Subscription, now: datetime) -> None:
    release_stale_pending(subscription, now)
    if subscription.pending_payment_id:
        raise Conflict(
            "A payment for this subscription is still being processed; finish or retry it later.",
            code=SubscriptionError.PAYMENT_IN_PROGRESS,
            payment=str(subscription.pending_payment.public_id),
        )


def _had_trial(user: Any) -> bool:
    return Subscription.objects.filter(user=user, trial_end__isnull=False).exists()


def _upgrade_quote(subscription: Subscription, target: Plan, now: datetime) -> tuple[int, dict[str, Any] | None]:
    """(amount to charge, new period or None to keep the current one)."""
    current = subscription.plan
    if current.is_free:
        return target.price, new_period(plan=target, now=now)
    start, end = subscription.current_period_start, subscription.current_period_end
    if target.period == current.period and target.currency == current.currency:
        return prorate(amount=target.price - current.price, start=start, end=end, now=now), None
    credit = prorate(amount=current.price, start=start, end=end, now=now) if target.currency == current.currency else 0
    return max(target.price - credit, 0), new_period(plan=target, now=now)


def subscription_change_plan(
    *, user: Any, plan: str, payment_method: str = "", actor: Any = None, now: datetime | None = None
) -> PlanChange:
    """Subscribe to `plan` (a code). Higher rank: now, prorated (402 if declined, nothing changed). Lower or
    equal rank: at period end. The current plan again: keep it (undo a pending cancel/downgrade, update the
    payment method), or, when past due, pay the overdue period now."""
    now = now or timezone.now()
    actor = actor or user
    target = Plan.objects.filter(code=plan, is_public=True).first()
    if target is None:
        raise InvalidInput(f"No plan {plan!r}.", field="plan", code=SubscriptionError.UNKNOWN_PLAN)
    with transaction.atomic():
        subscription = subscription_lock_current(user=user, now=now)
        _ensure_no_charge_in_flight(subscription, now)
        current = subscription.plan
        if target.pk == current.pk and subscription.state == SubscriptionState.PAST_DUE:
            overdue = True
        elif subscription.state == SubscriptionState.PAST_DUE:
            raise Conflict(
                "Your subscription is past due: pay the overdue period first (subscribe to your "
                "current plan with a payment method).",
                code=SubscriptionError.SUBSCRIPTION_PAST_DUE,
            )
        elif target.pk == current.pk:
            return PlanChange(subscription=_keep(subscription, payment_method, actor), outcome="kept")
        elif target.rank <= current.rank:
            return PlanChange(
                subscription=_schedule_downgrade(subscription, target, actor), outcome="downgrade_scheduled"
            )
        else:
            overdue = False
            change = _upgrade_begin(subscription, target, payment_method, actor, now)
            if isinstance(change, PlanChange):
                return change
            payment, payment_method = change
    if overdue:
        renewed, payment = renew_with_payment(
            subscription=subscription, now=now, payment_method=payment_method, actor=actor, force=True
        )
        if payment is not None:
            payment_raise_if_failed(payment=payment)
        outcome = "requires_action" if payment is not None and payment.state in OPEN_PAYMENT_STATES else "renewed"
        return PlanChange(subscription=renewed, outcome=outcome, payment=payment)
    payment, _ = payment_execute(
        payment=payment, payment_method=payment_method, customer=subscription.provider_customer, save_for_future=True
    )
    payment_raise_if_failed(payment=payment)
    subscription.refresh_from_db()
    outcome = "requires_action" if payment.state in OPEN_PAYMENT_STATES else "upgraded"
    return PlanChange(subscription=subscription, outcome=outcome, payment=payment)


def _keep(subscription: Subscription, payment_method: str, actor: Any) -> Subscription:
    changes = {}
    if subscription.cancel_at_period_end:
        changes["cancel_at_period_end"] = False
    if subscription.pending_plan_id:
        changes["pending_plan"] = subscription.pending_plan.code
    if payment_method and payment_method != subscription.payment_method:
        subscription.payment_method = payment_method
        changes["payment_method_updated"] = True
    if not changes:
        return subscription
    subscription.cancel_at_period_end = False
    subscription.pending_plan = None
    subscription.save()
    type = "resumed" if "cancel_at_period_end" in changes or "pending_plan" in changes else "payment_method_updated"
    subscription_event_record(
        subscription=subscription,
        type=type,
        actor=actor,
        from_state=subscription.state,
        data={"cancelled_downgrade": changes.get("pending_plan")},
    )
    return subscription


def _schedule_downgrade(subscription: Subscription, target: Plan, actor: Any) -> Subscription:
    subscription.pending_plan = target
    subscription.cancel_at_period_end = False
    subscription.save()
    subscription_event_record(
        subscription=subscription,
        type="downgrade_scheduled",
        actor=actor,
        from_state=subscription.state,
        data={"to_plan": target.code, "effective_at": subscription.current_period_end},
    )
    return subscription


def _upgrade_begin(
    subscription: Subscription, target: Plan, payment_method: str, actor: Any, now: datetime
) -> PlanChange | tuple[Payment, str]:
    if subscription.state == SubscriptionState.TRIALING:
        apply_plan(subscription, plan=target, period=None, actor=actor, type="upgraded", data={"amount": 0})
        return PlanChange(subscription=subscription, outcome="upgraded")
    payment_method = payment_method or subscription.payment_method
    if subscription.plan.is_free and target.trial_days and not _had_trial(subscription.user):
        if not payment_method:
            raise InvalidInput("A payment method is needed to start the trial.", field="payment_method")
        period = {"anchor": now, "start": now, "end": now + timedelta(days=target.trial_days)}
        subscription.trial_end, subscription.payment_method = period["end"], payment_method
        apply_plan(
            subscription,
            plan=target,
            period=period,
            actor=actor,
            type="trial_started",
            data={"trial_end": period["end"]},
            state=SubscriptionState.TRIALING,
        )
        return PlanChange(subscription=subscription, outcome="trial_started")
    amount, period = _upgrade_quote(subscription, target, now)
    if amount == 0:
        apply_plan(subscription, plan=target, period=period, actor=actor, type="upgraded", data={"amount": 0})
        return PlanChange(subscription=subscription, outcome="upgraded")
    if not payment_method:
        raise InvalidInput("A payment method is needed to upgrade.", field="payment_method")
    metadata = {
        "subscription": subscription.pk,
        "action": "upgrade",
        "plan": target.code,
        "from_plan": subscription.plan.code,
        "payment_method": payment_method,
        "initiated_at": now.isoformat(),
    }
    if period is not None:
        metadata["period"] = {key: value.isoformat() for key, value in period.items()}
    payment = payment_begin(
        payer=subscription.user,
        amount=amount,
        currency=target.currency,
        purpose=PaymentPurpose.SUBSCRIPTION,
        reference=f"subscription:{subscription.public_id}",
        description=f"Upgrade to {target.name}",
        metadata=metadata,
        actor=actor,
    )
    subscription.pending_payment = payment
    subscription.save(update_fields=["pending_payment", "updated_at"])
    return payment, payment_method


def subscription_cancel(*, user: Any, actor: Any = None, now: datetime | None = None) -> Subscription:
    """Cancel at the end of the period (a past-due subscription ends now and falls back to free)."""
    now = now or timezone.now()
    actor = actor or user
    with transaction.atomic():
        subscription = subscription_lock_current(user=user, now=now)
        if subscription.plan.is_free and not subscription.pending_plan_id:
            raise Conflict(
                "You are on the free plan: there is nothing to cancel.", code=SubscriptionError.NOTHING_TO_CANCEL
            )
        _ensure_no_charge_in_flight(subscription, now)
        if subscription.state == SubscriptionState.PAST_DUE:
            return end_subscription(subscription, reason="cancelled", actor=actor, now=now)
        if subscription.cancel_at_period_end:
            return subscription
        subscription.cancel_at_period_end = True
        subscription.pending_plan = None
        subscription.save()
        subscription_event_record(
            subscription=subscription,
            type="cancel_scheduled",
            actor=actor,
            from_state=subscription.state,
            data={"ends_at": subscription.current_period_end},
        )
        return subscription


def subscription_resume(*, user: Any, actor: Any = None, now: datetime | None = None) -> Subscription:
    """Undo a scheduled cancellation before the period ends."""
    now = now or timezone.now()
    with transaction.atomic():
        subscription = subscription_lock_current(user=user, now=now)
        if not subscription.cancel_at_period_end:
            raise Conflict(
                "This subscription is not set to cancel.",
                code=SubscriptionError.NOT_CANCELLING,
                state=subscription.state,
            )
        subscription.cancel_at_period_end = False
        subscription.save()
        subscription_event_record(
            subscription=subscription, type="resumed", actor=actor or user, from_state=subscription.state
        )
        return subscription


def subscription_cancel_now(
    *, subscription: Subscription, actor: Any = None, now: datetime | None = None
) -> Subscription | None:
    """Staff: end a subscription immediately (no refund); the user falls back to free. None if already ended."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_subscription(subscription.pk)
        if locked.state == SubscriptionState.CANCELLED or locked.plan.is_free:
            return None
        return end_subscription(locked, reason="cancelled_by_staff", actor=actor, now=now)
