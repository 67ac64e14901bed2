"""Gallery settings (declared once: core/conf.py; read at call time with `conf.get(NAME)`)."""

from datetime import timedelta

from core.conf import CURRENCY_CODES, DURATION, FLAG, INTEGER, Setting, Settings, blank_is_default

SETTINGS = Settings(
    Setting("GALLERY_DOWNLOAD_URL_TTL_SECONDS", INTEGER, 300, "lifetime of a signed download link, in seconds"),
    Setting(
        "GALLERY_ORDER_PENDING_TIMEOUT",
        DURATION,
        timedelta(minutes=30),
        "an unpaid order older than this is cancelled (the payments' own pending timeout); unpaid orders "
        "reserve nothing",
        env=None,
    ),
    Setting(
        "GALLERY_CHECKOUT_HOLD",
        DURATION,
        timedelta(seconds=60),
        "how long an exclusive listing is held for one buyer while their charge is in flight (released as "
        "soon as the provider answers)",
        env=None,
    ),
    Setting("GALLERY_MAX_PENDING_ORDERS", INTEGER, 10, "unpaid orders one buyer may keep open at once", env=None),
    Setting(
        "GALLERY_CURRENCIES",
        CURRENCY_CODES,
        ("USD", "EUR", "GBP"),
        "ISO 4217 codes listings may be priced in, comma-separated",
    ),
    Setting("GALLERY_MAX_UPLOAD_BYTES", INTEGER, 25 * 1024 * 1024, "largest artwork upload", shown="25 MiB"),
    Setting(
        "GALLERY_BROWSE_CACHE_SECONDS",
        INTEGER,
        5,
        "public browse pages are reused this long (retired at once by any change); `0` turns it off",
    ),
    Setting(
        "GALLERY_PREVIEW_INVISIBLE_WATERMARK",
        blank_is_default(FLAG),
        True,
        "originals (marked once at creation) and previews of ≥ 96 px carry provenance's invisible watermark "
        "(off only to measure it: "
        "`bench.provenance`'s `publish_slowdown`)",
    ),
)
get = SETTINGS.get
