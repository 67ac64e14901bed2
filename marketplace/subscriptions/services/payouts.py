"""Payouts: a user's available ledger balance in one currency becomes a pending payout (the ledger debited in the
same transaction, under a lock on the user, so the balance never goes below zero and nothing is paid twice);
then the provider is asked to send it outside any transaction. The embedded test provider settles at once; with
others, staff mark the payout paid (or failed, which credits the amount back) in the admin."""

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from core.errors import Conflict, InvalidInput, InvalidTransition
from marketplace.subscriptions import conf, locks
from marketplace.subscriptions.errors import SubscriptionError
from marketplace.subscriptions.models import LedgerEntry, Payout, PayoutState
from marketplace.subscriptions.services.ledger import ledger_credit, ledger_debit

logger = logging.getLogger("atelier.payouts")


def _available(*, user: Any, currency: str) -> int:
    return LedgerEntry.objects.filter(user=user, currency=currency).aggregate(total=Sum("amount"))["total"] or 0


def payout_request(*, user: Any, currency: str) -> Payout:
    """Pay out everything available in `currency`. 409 `nothing_to_pay_out` at a zero (or negative) balance,
    409 `payout_pending` while an earlier payout in that currency is still on its way."""
    currency = str(currency or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput("Currency must be a three-letter ISO 4217 code.", field="currency")
    with transaction.atomic():
        locks.lock_user(user.pk)
        if Payout.objects.filter(user=user, currency=currency, state=PayoutState.PENDING).exists():
            raise Conflict("A payout in this currency is already on its way.", code=SubscriptionError.PAYOUT_PENDING)
        amount = _available(user=user, currency=currency)
        if amount <= 0:
            raise Conflict(
                f"There is nothing to pay out in {currency}.", code=SubscriptionError.NOTHING_TO_PAY_OUT, balance=amount
            )
        try:
            with transaction.atomic():
                payout = Payout.objects.create(
                    user=user, amount=amount, currency=currency, provider=conf.get("PAYMENT_PROVIDER")
                )
        except IntegrityError:  # the constraint behind the lock
            raise Conflict(
                "A payout in this currency is already on its way.", code=SubscriptionError.PAYOUT_PENDING
            ) from None
        ledger_debit(
            user=user,
            amount=amount,
            currency=currency,
            reference=f"payout:{payout.public_id}",
            memo=f"Payout {payout.public_id}",
        )
    return _send(payout=payout)


def _send(*, payout: Payout) -> Payout:
    from marketplace.subscriptions.payment_providers import ProviderUnavailable, get_provider

    try:
        send = getattr(get_provider(payout.provider), "payout", None)
        reference = (
            send(amount=payout.amount, currency=payout.currency, idempotency_key=f"atelier-payout-{payout.public_id}")
            if send
            else ""
        )
    except ProviderUnavailable as exc:  # stays pending: staff settle it
        logger.warning("payout %s: provider unavailable: %s", payout.public_id, exc)
        reference = ""
    if not reference:
        return payout
    return payout_mark_paid(payout=payout, actor=None, provider_reference=reference)


def payout_mark_paid(*, payout: Payout, actor: Any, provider_reference: str = "") -> Payout:
    with transaction.atomic():
        locked = locks.lock_payout(payout.pk)
        if locked.state != PayoutState.PENDING:
            raise InvalidTransition(entity="payout", state=locked.state, action="mark_paid")
        locked.state, locked.paid_at, locked.settled_by = PayoutState.PAID, timezone.now(), actor
        locked.provider_reference = provider_reference[:255]
        locked.save()
    return locked


def payout_mark_failed(*, payout: Payout, actor: Any, reason: str) -> Payout:
    """The transfer did not happen: credit the amount back (reference `payout:<id>:reversal`, once)."""
    with transaction.atomic():
        locked = locks.lock_payout(payout.pk)
        if locked.state != PayoutState.PENDING:
            raise InvalidTransition(entity="payout", state=locked.state, action="mark_failed")
        locked.state, locked.failed_at, locked.settled_by = PayoutState.FAILED, timezone.now(), actor
        locked.failure_reason = reason[:500]
        locked.save()
        ledger_credit(
            user=locked.user,
            amount=locked.amount,
            currency=locked.currency,
            reference=f"payout:{locked.public_id}:reversal",
            memo=f"Payout failed: {reason}"[:500],
        )
    return locked
