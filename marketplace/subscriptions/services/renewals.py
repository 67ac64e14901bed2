"""Renewals: the periodic sweep, charging the next period, retries with backoff, falling back to free,
and applying settled subscription payments (upgrades and renewals) under the subscription's row lock."""

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from marketplace.subscriptions import conf
from marketplace.subscriptions.locks import lock_subscription
from marketplace.subscriptions.models import (
    Payment,
    PaymentPurpose,
    PaymentState,
    Plan,
    Subscription,
    SubscriptionState,
)
from marketplace.subscriptions.payment_providers import ChargeResult
from marketplace.subscriptions.periods import period_end_after
from marketplace.subscriptions.selectors import subscriptions_due
from marketplace.subscriptions.services._records import subscription_event_record
from marketplace.subscriptions.services._state import (
    apply_plan,
    end_subscription,
    live_subscription,
    new_period,
    release_stale_pending,
    set_period,
)
from marketplace.subscriptions.services.payments import payment_begin, payment_execute

logger = logging.getLogger("atelier.subscriptions")


def _next_period(subscription: Subscription, target: Plan, now: datetime) -> dict[str, datetime]:
    start = subscription.current_period_end
    same_cycle = subscription.state != SubscriptionState.TRIALING and target.period == subscription.plan.period
    anchor = subscription.billing_anchor if same_cycle else start
    end = period_end_after(anchor=anchor, moment=start, period=target.period)
    if end <= now:  # renewal lagged by more than a period: start afresh rather than bill for the gap
        return new_period(plan=target, now=now)
    return {"anchor": anchor, "start": start, "end": end}


def _renewal_due(subscription: Subscription, now: datetime, force: bool) -> bool:
    if subscription.state == SubscriptionState.PAST_DUE:
        attempt_at = subscription.next_payment_attempt_at
        return force or attempt_at is None or attempt_at <= now
    return (
        subscription.state in (SubscriptionState.ACTIVE, SubscriptionState.TRIALING)
        and subscription.current_period_end <= now
    )


def subscription_renew(
    *,
    subscription: Subscription,
    now: datetime | None = None,
    payment_method: str = "",
    actor: Any = None,
    force: bool = False,
) -> Subscription:
    """Renew a subscription whose period ended (or retry a past-due one): end it if cancelling, apply a
    pending downgrade, charge the plan's price. Returns the user's live subscription afterwards. `actor`
    set means the payer is present (an on-session charge whose failure does not count as a retry);
    `force` retries a past-due subscription before its scheduled attempt."""
    renewed, _ = renew_with_payment(
        subscription=subscription, now=now, payment_method=payment_method, actor=actor, force=force
    )
    return renewed


def renew_with_payment(
    *, subscription: Subscription, now: datetime | None, payment_method: str, actor: Any, force: bool
) -> tuple[Subscription, Payment | None]:
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_subscription(subscription.pk)
        if locked.state == SubscriptionState.CANCELLED:
            return locked, None
        release_stale_pending(locked, now)
        if locked.pending_payment_id or not _renewal_due(locked, now, force):
            return locked, None
        if locked.cancel_at_period_end and locked.state != SubscriptionState.PAST_DUE:
            return end_subscription(locked, reason="cancelled", actor=actor, now=now), None
        target = locked.pending_plan or locked.plan
        period = _next_period(locked, target, now)
        if target.is_free:
            _renewed(locked, plan=target, period=period, actor=actor, payment=None)
            return locked, None
        payment_method = payment_method or locked.payment_method
        payment = payment_begin(
            payer=locked.user,
            amount=target.price,
            currency=target.currency,
            purpose=PaymentPurpose.SUBSCRIPTION,
            reference=f"subscription:{locked.public_id}",
            description=f"{target.name}, period from {period['start']:%Y-%m-%d}",
            metadata={
                "subscription": locked.pk,
                "action": "renewal",
                "plan": target.code,
                "payment_method": payment_method,
                "initiated_at": now.isoformat(),
                "initiated_by": "payer" if actor is not None else "system",
                "period": {key: value.isoformat() for key, value in period.items()},
            },
            actor=actor,
        )
        locked.pending_payment = payment
        locked.save(update_fields=["pending_payment", "updated_at"])
    payment, _ = payment_execute(
        payment=payment,
        payment_method=payment_method,
        customer=locked.provider_customer,
        off_session=actor is None,
        save_for_future=actor is not None,
    )
    locked.refresh_from_db()
    return (live_subscription(locked.user) if locked.state == SubscriptionState.CANCELLED else locked), payment


def _renewed(
    subscription: Subscription, *, plan: Plan, period: dict[str, Any], actor: Any, payment: Payment | None
) -> None:
    previous_state, previous_plan = subscription.state, subscription.plan
    subscription.plan = plan
    set_period(subscription, period)
    subscription.state = SubscriptionState.ACTIVE
    subscription.pending_plan = subscription.pending_payment = None
    subscription.failed_payment_attempts = 0
    subscription.next_payment_attempt_at = None
    subscription.save()
    if plan.pk != previous_plan.pk:
        subscription_event_record(
            subscription=subscription,
            type="downgraded",
            actor=actor,
            from_state=previous_state,
            data={"from_plan": previous_plan.code, "to_plan": plan.code},
        )
    subscription_event_record(
        subscription=subscription,
        type="renewed",
        actor=actor,
        from_state=previous_state,
        data={
            "period_start": subscription.current_period_start,
            "period_end": subscription.current_period_end,
            "amount": payment.amount if payment else 0,
            "payment": str(payment.public_id) if payment else None,
        },
    )


def _renewal_failed(subscription: Subscription, payment: Payment) -> None:
    if payment.metadata.get("initiated_by") == "payer":  # the payer tried by hand: the schedule stands
        subscription.pending_payment = None
        subscription.save(update_fields=["pending_payment", "updated_at"])
        return
    attempted_at = parse_datetime(payment.metadata["initiated_at"])
    previous = subscription.state
    subscription.pending_payment = None
    subscription.failed_payment_attempts += 1
    delays = conf.get("SUBSCRIPTION_RETRY_DELAYS")
    if subscription.failed_payment_attempts > len(delays):
        end_subscription(subscription, reason="payment_failed", actor=None, now=attempted_at)
        return
    subscription.state = SubscriptionState.PAST_DUE
    subscription.next_payment_attempt_at = attempted_at + delays[subscription.failed_payment_attempts - 1]
    subscription.save()
    subscription_event_record(
        subscription=subscription,
        type="past_due" if previous != SubscriptionState.PAST_DUE else "payment_failed",
        from_state=previous,
        data={
            "payment": str(payment.public_id),
            "reason": payment.failure_code,
            "attempt": subscription.failed_payment_attempts,
            "next_attempt_at": subscription.next_payment_attempt_at,
        },
    )


def subscription_payment_settled(*, subscription: Subscription, payment: Payment, result: ChargeResult) -> bool:
    """Called by payment settlement (both rows locked). Returns False when a succeeded payment is not wanted
    any more (the subscription moved on), so that the payment gets refunded."""
    awaited = subscription.pending_payment_id == payment.pk and subscription.state != SubscriptionState.CANCELLED
    action = payment.metadata.get("action")
    if payment.state == PaymentState.SUCCEEDED:
        if not awaited:
            return False
        subscription.payment_method = payment.metadata.get("payment_method") or subscription.payment_method
        subscription.provider_customer = result.customer_reference or subscription.provider_customer
        plan = Plan.objects.get(code=payment.metadata["plan"])
        if action == "upgrade":
            apply_plan(
                subscription,
                plan=plan,
                period=payment.metadata.get("period"),
                actor=payment.payer,
                type="upgraded",
                data={"amount": payment.amount, "payment": str(payment.public_id)},
            )
        else:
            _renewed(subscription, plan=plan, period=payment.metadata["period"], actor=None, payment=payment)
        return True
    if awaited and payment.state in (PaymentState.FAILED, PaymentState.CANCELLED):
        if action == "renewal":
            _renewal_failed(subscription, payment)
        else:  # a declined upgrade changes nothing
            subscription.pending_payment = None
            subscription.save(update_fields=["pending_payment", "updated_at"])
    return True


def subscription_renew_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """The periodic sweep: renew, retry or end every subscription that is due."""
    now = now or timezone.now()
    counts = {"processed": 0, "errors": 0}
    for pk in subscriptions_due(now=now, limit=limit):
        try:
            subscription_renew(subscription=Subscription(pk=pk), now=now)
            counts["processed"] += 1
        except Exception:  # one bad row must not stop the others; it is retried on the next sweep
            logger.exception("renewal of subscription %s failed", pk)
            counts["errors"] += 1
    return counts
