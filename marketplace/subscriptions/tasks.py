"""Background work: the periodic renewal sweep, and refunds that must not be lost (outbox task rows)."""

from django.tasks import task


@task(queue_name="default")
def renew_due_subscriptions_task() -> dict[str, int]:
    from marketplace.subscriptions.services import subscription_renew_due

    return subscription_renew_due()


@task(queue_name="default")
def refund_payment_task(payment_id: int, reason: str) -> str:
    """Refund what is still refundable of a payment nobody wants (e.g. a charge that completed too late)."""
    from marketplace.subscriptions.models import Payment
    from marketplace.subscriptions.services import payment_refund

    payment = Payment.objects.get(pk=payment_id)
    if payment.refundable_amount <= 0:
        return "nothing to refund"
    payment_refund(payment=payment, reason=reason)
    return "refunded"
