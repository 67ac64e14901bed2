"""Webhook settings (declared once: core/conf.py; read at call time with `conf.get(NAME)`) and constants."""

from datetime import timedelta

from django.conf import settings

from core.conf import FLAG, HOURS, INTEGER, NUMBER, SECONDS, TEXT, Setting, Settings

SETTINGS = Settings(
    Setting(
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS",
        FLAG,
        False,
        "deliver to private, loopback and other non-public addresses (tests, closed networks)",
    ),
    Setting("WEBHOOK_TIMEOUT_SECONDS", NUMBER, 10.0, "deadline of one delivery attempt"),
    Setting("WEBHOOK_MAX_ATTEMPTS", INTEGER, 5, "attempts per delivery series (the first try included)"),
    Setting(
        "WEBHOOK_BACKOFF_BASE",
        SECONDS,
        timedelta(minutes=1),
        "wait after the first failed attempt (×4 each time, 6 h cap)",
        env="WEBHOOK_BACKOFF_BASE_SECONDS",
    ),
    Setting(
        "WEBHOOK_DISABLE_AFTER_FAILURES",
        INTEGER,
        20,
        "an endpoint failing this many times in a row (no success between), for "
        "`WEBHOOK_DISABLE_FAILING_FOR_HOURS`, is disabled",
    ),
    # Svix and Stripe disable after days of failures, not after a burst.
    Setting(
        "WEBHOOK_DISABLE_FAILING_FOR",
        HOURS,
        timedelta(days=3),
        "... provided it has been failing at least this long",
        env="WEBHOOK_DISABLE_FAILING_FOR_HOURS",
    ),
    Setting("WEBHOOK_MAX_ENDPOINTS_PER_USER", INTEGER, 20, "endpoints per user"),
    Setting(
        "WEBHOOK_CA_FILE",
        TEXT,
        "",
        "CA bundle for verifying receivers' certificates (a private CA; empty: the system's trust store)",
    ),
)
get = SETTINGS.get


def https_only() -> bool:
    """Receivers must be https: in production (not a setting of its own)."""
    return settings.ATELIER_ENV == "production"


BACKOFF_FACTOR = 4  # 1 min, 4 min, 16 min, 64 min with the default base: about 1.5 h for five attempts
MAX_BACKOFF = timedelta(hours=6)
RESPONSE_BODY_LIMIT = 4096  # bytes of the receiver's answer kept on the attempt row
SECRET_ROTATION_GRACE = timedelta(hours=24)  # how long the previous secret keeps signing after a rotation
