"""Payment signals routed to the order services (asynchronous payments: 3-D Secure, pending providers).

A failure here must not break the payments app's own flow (these run in its on-commit hooks), so it is logged;
an order whose payment succeeded but was not settled is settled by the expiry sweep (`orders_expire_stale`).
"""

import logging
from typing import Any

from django.dispatch import receiver

from marketplace.gallery import ports, services
from marketplace.subscriptions.signals import payment_failed, payment_succeeded

logger = logging.getLogger("atelier.gallery")


def _order_of(payment: Any):
    reference = ports.order_reference_of_payment(payment)
    return services.order_for_payment(order_public_id=reference) if reference else None


@receiver(payment_succeeded, dispatch_uid="gallery.payment_succeeded")
def on_payment_succeeded(sender: Any, payment: Any, **kwargs: Any) -> None:
    order = _order_of(payment)
    if order is None:
        return
    try:
        services.order_payment_succeeded(order=order, payment_id=payment.public_id)
    except Exception:
        logger.exception("settling order %s for payment %s failed", order.public_id, payment.public_id)


@receiver(payment_failed, dispatch_uid="gallery.payment_failed")
def on_payment_failed(sender: Any, payment: Any, **kwargs: Any) -> None:
    order = _order_of(payment)
    if order is not None:
        services.order_payment_failed(order=order, payment_id=payment.public_id)
