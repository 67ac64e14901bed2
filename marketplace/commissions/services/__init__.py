"""Write services of the commissions app. Other apps import from here: `from marketplace.commissions import services`.

Every state change goes through `transitions.py` (who may do what from which state) and leaves a history row
and a `commission.*` domain event in the same transaction.
"""

from marketplace.commissions.services.briefs import commission_cancel, commission_create, commission_refund
from marketplace.commissions.services.credentials import delivery_image_read
from marketplace.commissions.services.deliveries import (
    delivery_accept,
    delivery_generate,
    delivery_generation_settle,
    delivery_generation_settle_for_job,
    delivery_request_revision,
    delivery_upload,
)
from marketplace.commissions.services.offers import (
    commission_payment_sync,
    offer_accept,
    offer_create,
    offer_decline,
    offer_withdraw,
)
from marketplace.commissions.services.sweep import (
    commission_auto_complete,
    commission_expire,
    commission_revision_lapse,
    commissions_sweep,
)

__all__ = [
    "commission_auto_complete",
    "commission_cancel",
    "commission_create",
    "commission_expire",
    "commission_payment_sync",
    "commission_refund",
    "commission_revision_lapse",
    "commissions_sweep",
    "delivery_accept",
    "delivery_generate",
    "delivery_generation_settle",
    "delivery_generation_settle_for_job",
    "delivery_image_read",
    "delivery_request_revision",
    "delivery_upload",
    "offer_accept",
    "offer_create",
    "offer_decline",
    "offer_withdraw",
]
