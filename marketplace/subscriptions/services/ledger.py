"""The payout ledger: append-only, one row per (user, reference), so crediting a sale twice is a no-op."""

from typing import Any

from django.db import IntegrityError, transaction

from core.errors import Conflict, InvalidInput
from marketplace.subscriptions.errors import SubscriptionError
from marketplace.subscriptions.models import LedgerEntry
from marketplace.subscriptions.services.payments import MAX_AMOUNT, _validate_money


def _book(*, user: Any, amount: int, currency: str, reference: str, memo: str, sign: int) -> LedgerEntry:
    currency = _validate_money(amount=amount, currency=currency)
    if amount > MAX_AMOUNT:
        raise InvalidInput("Amount too large.", field="amount")
    if not reference or len(reference) > 200:
        raise InvalidInput("A reference of 1-200 characters is required.", field="reference")
    signed = sign * amount
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(
                user=user, amount=signed, currency=currency, reference=reference, memo=memo[:500]
            )
    except IntegrityError:
        existing = LedgerEntry.objects.get(user=user, reference=reference)
    if existing.amount != signed or existing.currency != currency:
        raise Conflict(
            f"{reference} is already booked as {existing.amount:+d} {existing.currency}.",
            code=SubscriptionError.LEDGER_REFERENCE_REUSED,
        )
    return existing


def ledger_credit(*, user: Any, amount: int, currency: str, reference: str, memo: str = "") -> LedgerEntry:
    """Credit `user` (a seller's share of an order, a commission payout). Idempotent per (user, reference):
    the same credit again returns the first entry; a different amount for that reference is a 409."""
    return _book(user=user, amount=amount, currency=currency, reference=reference, memo=memo, sign=1)


def ledger_debit(*, user: Any, amount: int, currency: str, reference: str, memo: str = "") -> LedgerEntry:
    """Debit `user` (a refunded sale clawed back, a payout sent). Same idempotency as `ledger_credit`; use a
    reference of its own (e.g. "order:<uuid>:refund")."""
    return _book(user=user, amount=amount, currency=currency, reference=reference, memo=memo, sign=-1)
