"""The commissions app's constants and settings (read at call time, so tests can override them).

COMMISSION_SWEEP_EVERY             how often the periodic sweep runs (expiry, auto-completion, reconciliation);
                                   default 1 minute
COMMISSION_AUTO_COMPLETE_AFTER     a delivery the client neither accepts nor questions is accepted for them
                                   after this long (default 14 days), so the artist is not left unpaid
COMMISSION_REVISION_MIN_WINDOW     a revision request leaves the artist at least this long to deliver; the due
                                   date moves out if needed (default 3 days)
COMMISSION_GENERATION_GRACE        a delivery still generating at the due date holds off expiry this long
                                   (default 1 day)
COMMISSION_PAYMENT_TIMEOUT         an accepted offer whose charge is still unfinished after this (3-D Secure never
                                   completed) is given up: the payment abandoned, the brief open again (30 min)
COMMISSION_MAX_REFERENCES          reference images per brief (default 10)
COMMISSION_MAX_DELIVERY_IMAGES     images per delivery, uploaded or generated (default 16)
COMMISSION_IMAGE_MAX_BYTES         per uploaded image (default 25 MiB)
COMMISSION_MAX_DEADLINE_DAYS       how far ahead a deadline may be (default 365)
"""

from datetime import timedelta
from typing import Any

from django.conf import settings

DEFAULT_REVISIONS = 2
MAX_REVISIONS = 10
MAX_AMOUNT = 99_999_999  # minor units: the payment provider's per-charge ceiling

DEFAULTS: dict[str, Any] = {
    "COMMISSION_SWEEP_EVERY": timedelta(minutes=1),
    "COMMISSION_AUTO_COMPLETE_AFTER": timedelta(days=14),
    "COMMISSION_REVISION_MIN_WINDOW": timedelta(days=3),
    "COMMISSION_GENERATION_GRACE": timedelta(days=1),
    "COMMISSION_PAYMENT_TIMEOUT": timedelta(minutes=30),
    "COMMISSION_MAX_REFERENCES": 10,
    "COMMISSION_MAX_DELIVERY_IMAGES": 16,
    "COMMISSION_IMAGE_MAX_BYTES": 25 * 1024 * 1024,
    "COMMISSION_MAX_DEADLINE_DAYS": 365,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
