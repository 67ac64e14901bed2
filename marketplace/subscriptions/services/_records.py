"""Event rows (who, what, when) plus the matching domain event, written in the caller's transaction."""

from datetime import datetime
from typing import Any

from core.events import event_emit
from marketplace.subscriptions.models import Payment, PaymentEvent, Subscription, SubscriptionEvent


def jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in data.items()}


def subscription_event_record(
    *,
    subscription: Subscription,
    type: str,
    actor: Any = None,
    from_state: str = "",
    data: dict[str, Any] | None = None,
) -> SubscriptionEvent:
    data = jsonable(data or {})
    event = SubscriptionEvent.objects.create(
        subscription=subscription, actor=actor, type=type, from_state=from_state, to_state=subscription.state, data=data
    )
    event_emit(
        type=f"subscription.{type}",
        user=subscription.user,
        payload={
            "subscription": str(subscription.public_id),
            "plan": subscription.plan.code,
            "state": subscription.state,
            "actor": str(actor.public_id) if actor is not None else None,
            **data,
        },
    )
    return event


def payment_event_record(
    *,
    payment: Payment,
    type: str,
    actor: Any = None,
    from_state: str = "",
    data: dict[str, Any] | None = None,
    emit: bool = False,
) -> PaymentEvent:
    data = jsonable(data or {})
    event = PaymentEvent.objects.create(
        payment=payment, actor=actor, type=type, from_state=from_state, to_state=payment.state, data=data
    )
    if emit:
        event_emit(
            type=f"payment.{type}",
            user=payment.payer,
            payload={
                "payment": str(payment.public_id),
                "amount": payment.amount,
                "currency": payment.currency,
                "purpose": payment.purpose,
                "reference": payment.reference,
                "state": payment.state,
                **data,
            },
        )
    return event
