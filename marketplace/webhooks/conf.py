"""Webhook settings with their defaults, read at call time so tests (and operators) can change them.

Until they are added to config/settings.py, every one of them runs on the default below.
"""

from datetime import timedelta

from django.conf import settings


def allow_private_networks() -> bool:
    """Deliver to private, loopback and other non-public addresses (the test suite's local receiver)."""
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_NETWORKS", False))


def https_only() -> bool:
    return getattr(settings, "ATELIER_ENV", "development") == "production"


def timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10.0))


def max_attempts() -> int:
    """Attempts per delivery series (the first try included)."""
    return int(getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 5))


def backoff_base() -> timedelta:
    """Delay after the first failed attempt; each later one is multiplied by BACKOFF_FACTOR."""
    return getattr(settings, "WEBHOOK_BACKOFF_BASE", timedelta(minutes=1))


def disable_after_failures() -> int:
    """Consecutive failed attempts (no success in between) after which an endpoint is disabled ..."""
    return int(getattr(settings, "WEBHOOK_DISABLE_AFTER_FAILURES", 20))


def disable_failing_for() -> timedelta:
    """... provided it has been failing at least this long (Svix/Stripe disable after days, not a burst)."""
    return getattr(settings, "WEBHOOK_DISABLE_FAILING_FOR", timedelta(days=3))


def max_endpoints_per_user() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_ENDPOINTS_PER_USER", 20))


def ca_file() -> str | None:
    """A CA bundle for verifying receivers' certificates (a private CA); None: the system's trust store."""
    return getattr(settings, "WEBHOOK_CA_FILE", "") or None


BACKOFF_FACTOR = 4  # 1 min, 4 min, 16 min, 64 min with the default base: about 1.5 h for five attempts
MAX_BACKOFF = timedelta(hours=6)
RESPONSE_BODY_LIMIT = 4096  # bytes of the receiver's answer kept on the attempt row
SECRET_ROTATION_GRACE = timedelta(hours=24)  # how long the previous secret keeps signing after a rotation
