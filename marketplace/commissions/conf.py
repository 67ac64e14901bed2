"""The commissions app's constants and settings (declared once: core/conf.py; read at call time)."""

from datetime import timedelta

from core.conf import DURATION, INTEGER, Setting, Settings

DEFAULT_REVISIONS = 2
MAX_REVISIONS = 10
MAX_AMOUNT = 99_999_999  # minor units: the payment provider's per-charge ceiling

SETTINGS = Settings(
    Setting(
        "COMMISSION_SWEEP_EVERY",
        DURATION,
        timedelta(minutes=1),
        "how often the periodic sweep runs (expiry, auto-completion, reconciliation)",
        env=None,
    ),
    Setting(
        "COMMISSION_AUTO_COMPLETE_AFTER",
        DURATION,
        timedelta(days=14),
        "a delivery the client neither accepts nor questions is accepted for them after this long, so the "
        "artist is not left unpaid",
        env=None,
    ),
    Setting(
        "COMMISSION_REVISION_MIN_WINDOW",
        DURATION,
        timedelta(days=3),
        "a revision request leaves the artist at least this long to deliver; the due date moves out if needed",
        env=None,
    ),
    Setting(
        "COMMISSION_GENERATION_GRACE",
        DURATION,
        timedelta(days=1),
        "a delivery still generating at the due date holds off expiry this long",
        env=None,
    ),
    Setting(
        "COMMISSION_PAYMENT_TIMEOUT",
        DURATION,
        timedelta(minutes=30),
        "an accepted offer whose charge is still unfinished after this (3-D Secure never completed) is given "
        "up: the payment abandoned, the brief open again",
        env=None,
    ),
    Setting("COMMISSION_MAX_REFERENCES", INTEGER, 10, "reference images per brief"),
    Setting("COMMISSION_MAX_DELIVERY_IMAGES", INTEGER, 16, "images per delivery, uploaded or generated"),
    Setting("COMMISSION_IMAGE_MAX_BYTES", INTEGER, 25 * 1024 * 1024, "bytes per uploaded image", shown="25 MiB"),
    Setting("COMMISSION_MAX_DEADLINE_DAYS", INTEGER, 365, "how far ahead a deadline may be, in days"),
)
get = SETTINGS.get
