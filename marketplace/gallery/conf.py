"""Gallery settings, read at call time (so tests can override them), with the defaults used when unset.

GALLERY_DOWNLOAD_URL_TTL_SECONDS   how long a signed download link works (default 300: five minutes)
GALLERY_ORDER_PENDING_TIMEOUT      an unpaid order older than this is cancelled (default 30 minutes, the
                                   payments' own pending timeout); unpaid orders reserve nothing
GALLERY_CHECKOUT_HOLD              how long an exclusive listing is held for one buyer while their charge is in
                                   flight (default 60 seconds; released as soon as the provider answers)
GALLERY_MAX_PENDING_ORDERS         unpaid orders one buyer may keep open at once (default 10)
GALLERY_CURRENCIES                 ISO 4217 codes listings may be priced in (default USD, EUR, GBP)
GALLERY_MAX_UPLOAD_BYTES           largest artwork upload (default 25 MiB)
GALLERY_BROWSE_CACHE_SECONDS       how long a rendered public browse page is reused (default 5; 0: off)
GALLERY_PREVIEW_INVISIBLE_WATERMARK  previews of at least 96 px a side carry provenance's invisible watermark
                                   (default on; off only to measure what it costs)
"""

from datetime import timedelta

from django.conf import settings


def download_url_ttl_seconds() -> int:
    return int(getattr(settings, "GALLERY_DOWNLOAD_URL_TTL_SECONDS", 300))


def order_pending_timeout() -> timedelta:
    return getattr(settings, "GALLERY_ORDER_PENDING_TIMEOUT", timedelta(minutes=30))


def checkout_hold() -> timedelta:
    return getattr(settings, "GALLERY_CHECKOUT_HOLD", timedelta(seconds=60))


def max_pending_orders() -> int:
    return int(getattr(settings, "GALLERY_MAX_PENDING_ORDERS", 10))


def currencies() -> tuple[str, ...]:
    return tuple(getattr(settings, "GALLERY_CURRENCIES", ("USD", "EUR", "GBP")))


def max_upload_bytes() -> int:
    return int(getattr(settings, "GALLERY_MAX_UPLOAD_BYTES", 25 * 1024 * 1024))


def browse_cache_seconds() -> int:
    return int(getattr(settings, "GALLERY_BROWSE_CACHE_SECONDS", 5))


def preview_invisible_watermark() -> bool:
    return bool(getattr(settings, "GALLERY_PREVIEW_INVISIBLE_WATERMARK", True))
