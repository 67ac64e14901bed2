"""Payments: charge through the configured provider, settle outcomes (synchronously or from webhooks), refund.

A charge is three steps so that no network call runs inside a transaction: record a pending `Payment`
(commit), call the provider, then settle the result under a row lock. Settlement is idempotent and ordered:
a late or repeated provider report never moves a payment backwards. Signals fire after commit.
"""

import logging
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from core.errors import Conflict, InvalidInput, InvalidTransition, PaymentRequired, ServiceUnavailable, Unprocessable
from marketplace.subscriptions import conf, locks, signals
from marketplace.subscriptions.errors import SubscriptionError
from marketplace.subscriptions.models import (
    OPEN_PAYMENT_STATES,
    PAID_PAYMENT_STATES,
    Payment,
    PaymentPurpose,
    PaymentRefund,
    PaymentState,
    RefundState,
    Subscription,
)
from marketplace.subscriptions.payment_providers import (
    ChargeRequest,
    ChargeResult,
    ProviderUnavailable,
    RefundResult,
    get_provider,
)
from marketplace.subscriptions.services._records import payment_event_record
from marketplace.subscriptions.tasks import refund_payment_task

logger = logging.getLogger("atelier.payments")

MAX_AMOUNT = 99_999_999  # minor units; Stripe's own per-charge ceiling for most currencies
PROVIDER_UNAVAILABLE = SubscriptionError.PROVIDER_UNAVAILABLE
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_RESULT_STATES = {
    "succeeded": PaymentState.SUCCEEDED,
    "pending": PaymentState.PENDING,
    "requires_action": PaymentState.REQUIRES_ACTION,
    "failed": PaymentState.FAILED,
    "cancelled": PaymentState.CANCELLED,
}


def _validate_money(*, amount: Any, currency: Any) -> str:
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidInput(f"Amount must be an integer number of minor units, 1 to {MAX_AMOUNT}.", field="amount")
    currency = str(currency or "").upper()
    if not _CURRENCY.match(currency):
        raise InvalidInput("Currency must be a three-letter ISO 4217 code.", field="currency")
    return currency


def payment_begin(
    *,
    payer: Any,
    amount: int,
    currency: str,
    purpose: str,
    reference: str,
    description: str = "",
    metadata: dict[str, Any] | None = None,
    actor: Any = None,
) -> Payment:
    """Record a pending payment with the provider now configured. Runs in the caller's transaction."""
    currency = _validate_money(amount=amount, currency=currency)
    if purpose not in PaymentPurpose.values:
        raise InvalidInput(f"Unknown payment purpose {purpose!r}.", field="purpose")
    if not reference or len(reference) > 200:
        raise InvalidInput("A reference of 1-200 characters is required.", field="reference")
    try:
        provider = get_provider().name
    except ProviderUnavailable as exc:
        raise ServiceUnavailable(str(exc), code=SubscriptionError.PAYMENT_PROVIDER_MISCONFIGURED) from None
    payment = Payment.objects.create(
        payer=payer,
        amount=amount,
        currency=currency,
        purpose=purpose,
        reference=reference,
        description=description[:500],
        metadata=metadata or {},
        provider=provider,
    )
    payment_event_record(payment=payment, type="created", actor=actor)
    return payment


def payment_execute(
    *,
    payment: Payment,
    payment_method: str,
    customer: str = "",
    off_session: bool = False,
    save_for_future: bool = False,
    return_url: str = "",
) -> tuple[Payment, ChargeResult]:
    """Ask the payment's provider to charge, then settle the answer. Call outside a transaction (network).
    `return_url` is where the payer's browser comes back after authenticating on the provider's pages."""
    if not payment_method:
        result = ChargeResult(
            status="failed", failure_code="payment_method_missing", failure_reason="No payment method is on file."
        )
    else:
        request = ChargeRequest(
            amount=payment.amount,
            currency=payment.currency,
            payment_method=payment_method,
            idempotency_key=f"atelier-payment-{payment.public_id}",
            description=payment.description,
            metadata={
                "atelier_payment": str(payment.public_id),
                "purpose": payment.purpose,
                "reference": payment.reference,
            },
            customer=customer,
            off_session=off_session,
            save_for_future=save_for_future,
            return_url=return_url,
        )
        try:
            result = get_provider(payment.provider).charge(request)
        except ProviderUnavailable as exc:
            logger.warning("payment %s: provider unavailable: %s", payment.public_id, exc)
            result = ChargeResult(
                status="failed",
                failure_code=PROVIDER_UNAVAILABLE,
                failure_reason="The payment provider could not be reached. Try again shortly.",
            )
    return payment_settle(payment=payment, result=result), result


def _allowed(current: str, new: str) -> bool:
    if current == new:
        return False
    if current == PaymentState.PENDING:
        return True
    if current == PaymentState.REQUIRES_ACTION:
        return new in (PaymentState.SUCCEEDED, PaymentState.FAILED, PaymentState.CANCELLED)
    # The provider is the source of truth: money taken after we gave up on a payment still counts (then refunds).
    return current in (PaymentState.FAILED, PaymentState.CANCELLED) and new == PaymentState.SUCCEEDED


def _subscription_of(payment: Payment) -> Subscription | None:
    if payment.purpose != PaymentPurpose.SUBSCRIPTION or "subscription" not in payment.metadata:
        return None
    return locks.lock_subscription_if_any(payment.metadata["subscription"])


def payment_settle(*, payment: Payment, result: ChargeResult, actor: Any = None) -> Payment:
    """Apply a provider outcome to a payment (and to the subscription it pays for). Idempotent."""
    from marketplace.subscriptions.services.renewals import subscription_payment_settled

    new_state = _RESULT_STATES[result.status]
    with transaction.atomic():
        subscription = _subscription_of(payment)  # lock order: subscription, then payment
        locked = locks.lock_payment(payment.pk)
        previous = locked.state
        if not _allowed(previous, new_state):
            if result.provider_reference and not locked.provider_reference:
                locked.provider_reference = result.provider_reference
                locked.save(update_fields=["provider_reference", "updated_at"])
            return locked
        locked.state = new_state
        if result.provider_reference and not locked.provider_reference:
            locked.provider_reference = result.provider_reference
        if result.client_secret:
            locked.client_secret = result.client_secret
        if result.action_url:
            locked.action_url = result.action_url[:2000]
        if new_state in (PaymentState.FAILED, PaymentState.CANCELLED):
            locked.failure_code = result.failure_code[:64]
            locked.failure_reason = result.failure_reason[:500]
        if new_state == PaymentState.SUCCEEDED:
            locked.succeeded_at = timezone.now()
            locked.failure_code = locked.failure_reason = ""
        locked.save()
        late = new_state == PaymentState.SUCCEEDED and previous in (PaymentState.FAILED, PaymentState.CANCELLED)
        kind = "late_success" if late else str(new_state)
        payment_event_record(
            payment=locked,
            type=kind,
            actor=actor,
            from_state=previous,
            emit=not late,
            data={"failure_code": locked.failure_code} if locked.failure_code else {},
        )
        applied = True
        if subscription is not None and not late:
            applied = subscription_payment_settled(subscription=subscription, payment=locked, result=result)
        if new_state == PaymentState.SUCCEEDED and (late or not applied):
            _refund_later(payment=locked, reason="The charge completed after it was abandoned; refunded.")
        elif new_state == PaymentState.SUCCEEDED:
            transaction.on_commit(lambda: signals.payment_succeeded.send(sender=Payment, payment=locked))
        elif new_state in (PaymentState.FAILED, PaymentState.CANCELLED):
            transaction.on_commit(lambda: signals.payment_failed.send(sender=Payment, payment=locked))
    return locked


def _refund_later(*, payment: Payment, reason: str) -> None:
    """Money we must give back: an outbox task row in this transaction, so it cannot be lost."""
    payment_event_record(payment=payment, type="auto_refund_scheduled", data={"reason": reason})
    refund_payment_task.enqueue(payment.pk, reason)


def payment_raise_if_failed(*, payment: Payment) -> None:
    """Turn a failed payment into the API error the payer should see (402, or 503 if the provider was down)."""
    if payment.state not in (PaymentState.FAILED, PaymentState.CANCELLED):
        return
    if payment.failure_code == PROVIDER_UNAVAILABLE:
        raise ServiceUnavailable(
            payment.failure_reason, code=PROVIDER_UNAVAILABLE, retry_after_seconds=30, payment=str(payment.public_id)
        )
    raise PaymentRequired(
        payment.failure_reason or "The payment was declined.",
        code=SubscriptionError.PAYMENT_DECLINED,
        reason=payment.failure_reason,
        decline_code=payment.failure_code,
        payment=str(payment.public_id),
    )


def payment_charge(
    *,
    payer: Any,
    amount: int,
    currency: str,
    purpose: str,
    reference: str,
    payment_method: str,
    description: str = "",
    save_for_future: bool = False,
    return_url: str = "",
) -> Payment:
    """Charge `payer` for `reference` (e.g. "order:<uuid>"). Call outside a transaction.

    Returns the payment: `succeeded`, or `requires_action` (show `client_secret` to the payer; the outcome
    arrives later as the `payment_succeeded` / `payment_failed` signal), or `pending`. A decline raises
    PaymentRequired (402). While a payment for the same payer and reference is open or paid, that payment is
    returned instead of charging twice; after a failure the reference can be charged again. `return_url`: where
    the payer's browser comes back from the provider's authentication page (pages give one; API clients use
    `client_secret`).
    """
    if purpose == PaymentPurpose.SUBSCRIPTION:
        raise InvalidInput("Subscription charges go through the subscription services.", field="purpose")
    existing = _live_payment(payer=payer, reference=reference)
    if existing is not None and _abandon_if_stale(existing):
        existing = None
    if existing is None:
        try:
            with transaction.atomic():
                payment = payment_begin(
                    payer=payer,
                    amount=amount,
                    currency=currency,
                    purpose=purpose,
                    reference=reference,
                    description=description,
                    actor=payer,
                )
        except IntegrityError:  # a concurrent charge for the same reference won the race
            existing = _live_payment(payer=payer, reference=reference)
            if existing is None:
                raise
    if existing is not None:
        if existing.amount != amount or existing.currency != str(currency).upper():
            raise Conflict(
                f"{reference} already has a payment of {existing.amount} {existing.currency}.",
                code=SubscriptionError.PAYMENT_REFERENCE_REUSED,
                payment=str(existing.public_id),
            )
        return existing
    payment, _ = payment_execute(
        payment=payment, payment_method=payment_method, save_for_future=save_for_future, return_url=return_url
    )
    payment_raise_if_failed(payment=payment)
    return payment


def _abandon_if_stale(payment: Payment) -> bool:
    """An open payment older than the pending timeout (a crash, an abandoned 3-D Secure) stops blocking its
    reference. If the provider completes it after all, settlement refunds it."""
    stale_before = timezone.now() - conf.get("SUBSCRIPTION_PENDING_PAYMENT_TIMEOUT")
    if payment.state not in OPEN_PAYMENT_STATES or payment.created_at > stale_before:
        return False
    return payment_abandon(payment=payment)


def payment_abandon(*, payment: Payment) -> bool:
    """Give up on an open payment (cancelled, `abandoned`); True if it is (now) failed or cancelled."""
    with transaction.atomic():
        locked = locks.lock_payment(payment.pk)
        if locked.state not in OPEN_PAYMENT_STATES:
            return locked.state in (PaymentState.FAILED, PaymentState.CANCELLED)
        previous = locked.state
        locked.state, locked.failure_code = PaymentState.CANCELLED, "abandoned"
        locked.failure_reason = "The payment was not completed in time."
        locked.save(update_fields=["state", "failure_code", "failure_reason", "updated_at"])
        payment_event_record(payment=locked, type="abandoned", from_state=previous)
        transaction.on_commit(lambda: signals.payment_failed.send(sender=Payment, payment=locked))
    return True


def _live_payment(*, payer: Any, reference: str) -> Payment | None:
    return (
        Payment.objects.filter(payer=payer, reference=reference)
        .exclude(purpose=PaymentPurpose.SUBSCRIPTION)
        .exclude(state__in=[PaymentState.FAILED, PaymentState.CANCELLED])
        .first()
    )


def payment_complete_test_action(*, payment: Payment, succeed: bool = True) -> Payment:
    """The test provider's stand-in for the payer finishing 3-D Secure (tok_requires_action)."""
    if payment.provider != "test":
        raise InvalidInput("Only test-provider payments can be completed by hand.")
    if payment.state != PaymentState.REQUIRES_ACTION:
        raise InvalidTransition(entity="payment", state=payment.state, action="complete")
    result = (
        ChargeResult(status="succeeded")
        if succeed
        else ChargeResult(
            status="failed", failure_code="authentication_failed", failure_reason="The cardholder failed 3-D Secure."
        )
    )
    return payment_settle(payment=payment, result=result)


def _reserved(payment: Payment) -> int:
    total = payment.refunds.filter(state=RefundState.PENDING).aggregate(total=Sum("amount"))["total"]
    return total or 0


def payment_refund(*, payment: Payment, amount: int | None = None, reason: str = "", actor: Any = None) -> Payment:
    """Refund `amount` (default: everything still refundable). Call outside a transaction (network).

    Raises InvalidTransition (409) for a payment that was never paid or is fully refunded, InvalidInput for an
    amount above what is left, Unprocessable (422, `refund_failed`) when the provider refuses.
    """
    with transaction.atomic():
        locked = locks.lock_payment(payment.pk)
        available = locked.refundable_amount - _reserved(locked)
        if locked.state not in PAID_PAYMENT_STATES or available <= 0:
            raise InvalidTransition(entity="payment", state=locked.state, action="refund")
        amount = available if amount is None else amount
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= available:
            raise InvalidInput(f"Refund between 1 and {available} minor units.", field="amount")
        refund = PaymentRefund.objects.create(payment=locked, amount=amount, reason=reason[:200], requested_by=actor)
        payment_event_record(
            payment=locked,
            type="refund_requested",
            actor=actor,
            data={"amount": amount, "refund": str(refund.public_id)},
        )
    try:
        result = get_provider(locked.provider).refund(
            provider_reference=locked.provider_reference,
            amount=amount,
            idempotency_key=f"atelier-refund-{refund.public_id}",
        )
    except ProviderUnavailable as exc:
        result = RefundResult(status="failed", failure_reason=f"Provider unavailable: {exc}")
    locked = payment_refund_settle(refund=refund, result=result)
    if result.status == "failed":
        raise Unprocessable(
            f"The refund failed: {result.failure_reason}",
            code=SubscriptionError.REFUND_FAILED,
            refund=str(refund.public_id),
        )
    return locked


def payment_refund_settle(*, refund: PaymentRefund, result: RefundResult, actor: Any = None) -> Payment:
    """Apply a provider's refund outcome (synchronous, or later from a webhook). Idempotent."""
    with transaction.atomic():
        payment = locks.lock_payment(refund.payment_id)
        locked = locks.lock_refund(refund.pk)
        if locked.state != RefundState.PENDING or result.status == "pending":
            if result.provider_reference and not locked.provider_reference:
                PaymentRefund.objects.filter(pk=locked.pk).update(provider_reference=result.provider_reference)
            return payment
        locked.provider_reference = result.provider_reference or locked.provider_reference
        if result.status == "failed":
            locked.state, locked.failure_reason = RefundState.FAILED, result.failure_reason[:500]
            locked.save()
            payment_event_record(
                payment=payment,
                type="refund_failed",
                actor=actor,
                data={"refund": str(locked.public_id), "reason": locked.failure_reason},
            )
            return payment
        locked.state = RefundState.SUCCEEDED
        locked.save()
        _book_refund(payment=payment, amount=locked.amount, actor=actor, refund=locked)
    return payment


def _book_refund(*, payment: Payment, amount: int, actor: Any, refund: PaymentRefund) -> None:
    previous = payment.state
    payment.amount_refunded += amount
    payment.state = (
        PaymentState.REFUNDED if payment.amount_refunded >= payment.amount else PaymentState.PARTIALLY_REFUNDED
    )
    payment.save(update_fields=["amount_refunded", "state", "updated_at"])
    payment_event_record(
        payment=payment,
        type="refunded",
        actor=actor,
        from_state=previous,
        emit=True,
        data={"refund": str(refund.public_id), "refunded": amount, "amount_refunded": payment.amount_refunded},
    )
    transaction.on_commit(lambda: signals.payment_refunded.send(sender=Payment, payment=payment, amount=amount))


def payment_record_external_refund(*, payment: Payment, amount_refunded: int, provider_reference: str = "") -> None:
    """The provider reports more refunded than we booked (a refund made in its dashboard): book the gap."""
    with transaction.atomic():
        locked = locks.lock_payment(payment.pk)
        gap = min(amount_refunded, locked.amount) - locked.amount_refunded - _reserved(locked)
        if gap <= 0 or locked.state not in PAID_PAYMENT_STATES:
            return
        refund = PaymentRefund.objects.create(
            payment=locked,
            amount=gap,
            state=RefundState.SUCCEEDED,
            provider_reference=provider_reference,
            reason="made at the provider",
        )
        _book_refund(payment=locked, amount=gap, actor=None, refund=refund)


__all__ = [
    "OPEN_PAYMENT_STATES",
    "payment_begin",
    "payment_charge",
    "payment_complete_test_action",
    "payment_execute",
    "payment_raise_if_failed",
    "payment_record_external_refund",
    "payment_refund",
    "payment_refund_settle",
    "payment_settle",
]
