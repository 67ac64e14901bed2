"""The subscriptions app's row locks, all here (house rule 5). Across tables: a subscription before the payment
that pays for it, a payment before its refunds; the user's row is the mutex of their payout ledger. Within a
table, rows in primary-key order. Call inside `transaction.atomic()`."""

from typing import Any

from django.contrib.auth import get_user_model

from marketplace.subscriptions.models import Payment, PaymentRefund, Payout, Subscription


def lock_user(pk: int) -> Any:
    """The user row, as a mutex for their payout ledger (a key-share lock leaves inserts referencing it free)."""
    return get_user_model().objects.select_for_update(no_key=True).filter(pk=pk).first()


def lock_subscription(pk: int) -> Subscription:
    """The subscription row, locked, with its plan joined (not locked)."""
    return Subscription.objects.select_for_update(of=("self",)).select_related("plan").get(pk=pk)


def lock_subscription_if_any(pk: Any) -> Subscription | None:
    return Subscription.objects.select_for_update().filter(pk=pk).first()


def lock_payment(pk: int) -> Payment:
    return Payment.objects.select_for_update().get(pk=pk)


def lock_refund(pk: int) -> PaymentRefund:
    return PaymentRefund.objects.select_for_update().get(pk=pk)


def lock_payout(pk: int) -> Payout:
    return Payout.objects.select_for_update().get(pk=pk)
