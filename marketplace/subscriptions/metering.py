"""`SubscriptionMeter`: plan quotas behind generation's metering hook (`GENERATION_METER`)."""

from typing import Any

from generation.metering import Limits
from marketplace.subscriptions import selectors
from marketplace.subscriptions.services.usage import usage_consume, usage_refund


class SubscriptionMeter:
    """consume → usage ledger row under the subscription lock (429 QuotaExceeded when exhausted);
    refund → once per reference; limits → the caps of the user's current plan."""

    def consume(self, *, user: Any, kind: str, units: int, reference: str) -> None:
        usage_consume(user=user, kind=kind, units=units, reference=reference)

    def refund(self, *, user: Any, kind: str, units: int, reference: str) -> None:
        usage_refund(user=user, kind=kind, units=units, reference=reference)

    def limits(self, *, user: Any) -> Limits:
        return selectors.plan_limits(user=user)
