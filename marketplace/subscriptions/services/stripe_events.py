"""Provider webhooks: verify the signature on the raw body, then handle each event id exactly once."""

import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.db.models import Q

from core.errors import InvalidInput, NotFound
from marketplace.subscriptions import conf
from marketplace.subscriptions.errors import SubscriptionError
from marketplace.subscriptions.models import Payment, PaymentRefund, ProcessedWebhookEvent
from marketplace.subscriptions.payment_providers import ChargeResult, RefundResult
from marketplace.subscriptions.services.payments import (
    payment_record_external_refund,
    payment_refund_settle,
    payment_settle,
)

logger = logging.getLogger("atelier.payments.webhooks")


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    type: str
    duplicate: bool
    outcome: str


def _signature_timestamp(header: str) -> int | None:
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return None


def _verify(*, payload: bytes, signature: str | None, secret: str, now: float) -> None:
    if not signature:
        raise InvalidInput("The Stripe-Signature header is missing.", code=SubscriptionError.WEBHOOK_SIGNATURE_INVALID)
    try:
        # Signature only here (tolerance=None); the timestamp window is checked below, in both directions.
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=None)
    except (stripe.SignatureVerificationError, UnicodeDecodeError):
        raise InvalidInput(
            "The Stripe-Signature does not match this payload.", code=SubscriptionError.WEBHOOK_SIGNATURE_INVALID
        ) from None
    timestamp, tolerance = _signature_timestamp(signature), conf.get("STRIPE_WEBHOOK_TOLERANCE_SECONDS")
    if timestamp is None or abs(now - timestamp) > tolerance:
        raise InvalidInput(
            f"The signed timestamp is more than {tolerance} seconds away from now.",
            code=SubscriptionError.WEBHOOK_TIMESTAMP_OUTSIDE_TOLERANCE,
        )


def stripe_webhook_process(*, payload: bytes, signature: str | None, now: float | None = None) -> WebhookOutcome:
    """Verify and apply one Stripe event. A bad signature or a timestamp outside the tolerance is a 400 with
    nothing changed; an event id seen before is acknowledged and ignored."""
    if not signature:  # a request that cannot be a Stripe event, whether or not the endpoint is on
        raise InvalidInput("The Stripe-Signature header is missing.", code=SubscriptionError.WEBHOOK_SIGNATURE_INVALID)
    secret = conf.get("STRIPE_WEBHOOK_SECRET")
    if not secret:  # the endpoint is off until configured: nothing here can be verified
        logger.warning("a Stripe webhook arrived but STRIPE_WEBHOOK_SECRET is not set")
        raise NotFound(
            "Stripe webhooks are not enabled on this server (STRIPE_WEBHOOK_SECRET).",
            code=SubscriptionError.WEBHOOK_NOT_CONFIGURED,
        )
    _verify(payload=payload, signature=signature, secret=secret, now=time.time() if now is None else now)
    try:
        event = json.loads(payload)
        event_id, event_type, obj = str(event["id"]), str(event["type"]), event["data"]["object"]
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(
            "The payload is not a Stripe event.", code=SubscriptionError.WEBHOOK_PAYLOAD_INVALID
        ) from None
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = ProcessedWebhookEvent.objects.create(
                    provider="stripe", event_id=event_id, type=event_type[:100], payload=event
                )
        except IntegrityError:
            return WebhookOutcome(event_id=event_id, type=event_type, duplicate=True, outcome="duplicate")
        outcome = _dispatch(event_type, obj)
        record.outcome = outcome[:200]
        record.save(update_fields=["outcome"])
    logger.info("stripe event %s %s: %s", event_id, event_type, outcome)
    return WebhookOutcome(event_id=event_id, type=event_type, duplicate=False, outcome=outcome)


def _payment_for_intent(intent: dict[str, Any]) -> Payment | None:
    match = Q(provider_reference=str(intent.get("id", "")))
    ours = (intent.get("metadata") or {}).get("atelier_payment")
    with contextlib.suppress(ValueError):
        match |= Q(public_id=uuid.UUID(str(ours))) if ours else Q()
    return Payment.objects.filter(match, provider="stripe").first() if intent.get("id") else None


def _intent_result(event_type: str, intent: dict[str, Any]) -> ChargeResult | None:
    base = {"provider_reference": str(intent["id"]), "customer_reference": str(intent.get("customer") or "")}
    if event_type == "payment_intent.succeeded":
        return ChargeResult(status="succeeded", **base)
    if event_type == "payment_intent.payment_failed":
        error = intent.get("last_payment_error") or {}
        return ChargeResult(
            status="failed",
            failure_code=error.get("decline_code") or error.get("code") or "failed",
            failure_reason=error.get("message") or "The payment failed.",
            **base,
        )
    if event_type == "payment_intent.canceled":
        return ChargeResult(
            status="cancelled",
            failure_code="canceled",
            failure_reason=intent.get("cancellation_reason") or "The payment was cancelled.",
            **base,
        )
    return None


def _dispatch(event_type: str, obj: dict[str, Any]) -> str:
    if event_type.startswith("payment_intent."):
        result = _intent_result(event_type, obj)
        payment = _payment_for_intent(obj) if result else None
        if payment is None:
            return "ignored"
        settled = payment_settle(payment=payment, result=result)
        return f"payment {settled.public_id} {settled.state}"
    if event_type == "charge.refunded":
        payment = _payment_for_intent({"id": obj.get("payment_intent"), "metadata": obj.get("metadata")})
        if payment is None:
            return "ignored"
        payment_record_external_refund(payment=payment, amount_refunded=int(obj.get("amount_refunded") or 0))
        return f"payment {payment.public_id} refunds synced"
    if event_type in ("refund.updated", "charge.refund.updated", "refund.failed"):
        refund = PaymentRefund.objects.filter(
            provider_reference=str(obj.get("id", "")), payment__provider="stripe"
        ).first()
        status = obj.get("status")
        if refund is None or status not in ("succeeded", "failed", "canceled"):
            return "ignored"
        result = RefundResult(
            status="succeeded" if status == "succeeded" else "failed",
            provider_reference=str(obj["id"]),
            failure_reason=str(obj.get("failure_reason") or ""),
        )
        payment_refund_settle(refund=refund, result=result)
        return f"refund {refund.public_id} {result.status}"
    return "ignored"
