"""Background work: expiring unpaid orders (periodic), and refunds that must not be lost (outbox task rows)."""

from django.tasks import task

from marketplace.gallery import ports


@task(queue_name="default")
def expire_pending_orders_task() -> int:
    from marketplace.gallery.services import orders_expire_stale

    return orders_expire_stale()


@task(queue_name="default")
def refund_order_payment_task(buyer_id: int, payment_id: str, reason: str) -> str:
    """Give back a payment that landed on an order that could no longer be fulfilled."""
    from django.contrib.auth import get_user_model

    buyer = get_user_model().objects.get(pk=buyer_id)
    outcome = ports.payment_refund(payer=buyer, payment_id=payment_id, reason=f"Not fulfilled: {reason}")
    return outcome.state
