"""Payment signals for other apps (the gallery moves an order when an asynchronous payment completes).

All are sent with `sender=Payment` after the transaction that settled the payment commits:
payment_succeeded(payment=), payment_failed(payment=), payment_refunded(payment=, amount=).
"""

from django.dispatch import Signal

payment_succeeded = Signal()
payment_failed = Signal()
payment_refunded = Signal()
