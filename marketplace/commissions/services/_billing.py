"""Everything this app asks of the subscriptions app's payments and payout ledger, in one place.

Charges and refunds reach the payment provider: call them outside a transaction.
"""

from datetime import datetime
from typing import Any

from marketplace.commissions.models import Commission

PURPOSE = "commission"  # subscriptions.PaymentPurpose.COMMISSION
OPEN_PAYMENT_STATES = ("pending", "requires_action")
FAILED_PAYMENT_STATES = ("failed", "cancelled")
PAID_PAYMENT_STATES = ("succeeded", "partially_refunded", "refunded")


def payment_reference(commission: Commission) -> str:
    return f"commission:{commission.public_id}"


def commission_public_id_of(payment: Any) -> str | None:
    if payment.purpose != PURPOSE or not payment.reference.startswith("commission:"):
        return None
    return payment.reference.split(":", 1)[1]


def charge(*, commission: Commission, payment_method: str) -> Any:
    """Charge the client the accepted offer's price; the platform holds the funds until completion.
    Raises PaymentRequired (402) on a decline, ServiceUnavailable (503) when the provider is down."""
    from marketplace.subscriptions.services import payment_charge

    return payment_charge(payer=commission.client, amount=commission.price, currency=commission.currency,
                          purpose=PURPOSE, reference=payment_reference(commission), payment_method=payment_method,
                          description=f"Commission {commission.public_id}")


def latest_payment(*, commission: Commission, since: datetime | None = None) -> Any:
    """The newest payment made for this commission (the row the accept step charged, if it got that far);
    with `since`, only one created from then on (a payment of an earlier, failed acceptance does not count)."""
    from marketplace.subscriptions.selectors import payments_for

    payments = payments_for(user=commission.client).filter(reference=payment_reference(commission))
    if since is not None:
        payments = payments.filter(created_at__gte=since)
    return payments.first()


def refund_all(*, payment: Any, reason: str) -> bool:
    """Refund whatever is still refundable of `payment`; False if nothing was. Raises Unprocessable when the
    provider refuses."""
    from core.errors import InvalidTransition
    from marketplace.subscriptions.services import payment_refund

    if payment.refundable_amount <= 0:
        return False
    try:
        payment_refund(payment=payment, reason=reason)
    except InvalidTransition:  # refunded (or being refunded) by a concurrent attempt
        return False
    return True


def abandon(*, payment: Any) -> None:
    """Give up on a charge still waiting for the payer; if the provider completes it later, the payments app
    refunds it by itself."""
    from marketplace.subscriptions.services import payment_abandon

    payment_abandon(payment=payment)


def credit_artist(*, commission: Commission) -> Any:
    """Pay the artist their share (price minus the platform fee) on the payout ledger; idempotent."""
    from marketplace.subscriptions.services import ledger_credit

    return ledger_credit(user=commission.artist, amount=commission.payout_amount, currency=commission.currency,
                         reference=payment_reference(commission),
                         memo=f"Commission {commission.public_id}: {commission.price} less platform fee "
                              f"{commission.platform_fee}")
