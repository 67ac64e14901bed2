"""Helpers shared by the commission services: locking, validation of money and times, the actor's role."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from core.errors import Conflict, InvalidInput, NotFound
from marketplace.commissions import conf
from marketplace.commissions.conf import MAX_AMOUNT
from marketplace.commissions.errors import CommissionError
from marketplace.commissions.models import Commission, Delivery, DeliveryState, Offer, OfferState
from marketplace.commissions.selectors import commission_role

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def role_of(*, commission: Commission, user: Any) -> str:
    role = commission_role(commission=commission, user=user)
    if role is None:
        raise NotFound("No such commission.")
    return role


def check_amount(value: Any, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        raise InvalidInput(f"{field} must be an integer number of minor units, 1 to {MAX_AMOUNT}.", field=field)
    return value


def check_currency(value: Any) -> str:
    currency = str(value or "").upper()
    if not _CURRENCY.match(currency):
        raise InvalidInput("currency must be a three-letter ISO 4217 code.", field="currency")
    return currency


def check_future(value: Any, *, field: str, now: datetime) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise InvalidInput(f"{field} must be a date and time with a UTC offset.", field=field)
    if value <= now:
        raise InvalidInput(f"{field} must be in the future.", field=field)
    horizon = conf.get("COMMISSION_MAX_DEADLINE_DAYS")
    if value > now + timedelta(days=horizon):
        raise InvalidInput(f"{field} must be within {horizon} days.", field=field)
    return value.astimezone(UTC)


def check_not_overdue(commission: Commission, *, now: datetime, action: str) -> None:
    if commission.due_at <= now:
        raise Conflict(
            f"The commission was due {commission.due_at.isoformat()}; it is too late to {action}.",
            code=CommissionError.DEADLINE_PASSED,
            state=commission.state,
            due_at=commission.due_at.isoformat(),
        )


def decline_pending_offers(commission: Commission, *, now: datetime) -> int:
    return Offer.objects.filter(commission=commission, state=OfferState.PENDING).update(
        state=OfferState.DECLINED, decided_at=now, updated_at=now
    )


def fail_generating_deliveries(commission: Commission, *, reason: str) -> int:
    return Delivery.objects.filter(commission=commission, state=DeliveryState.GENERATING).update(
        state=DeliveryState.FAILED, failure_reason=reason[:500], updated_at=timezone.now()
    )
