"""Subscription and payment settings (declared once: core/conf.py; read at call time with `conf.get(NAME)`)."""

from datetime import timedelta

from core.conf import DAYS_LIST, INTEGER, MINUTES, SECONDS, TEXT, Setting, Settings

SETTINGS = Settings(
    Setting(
        "PAYMENT_PROVIDER", TEXT, "test", "`test` (embedded, see below: documented test tokens, no network) or `stripe`"
    ),
    Setting(
        "STRIPE_SECRET_KEY",
        TEXT,
        "",
        "`sk_…` for the stripe provider; required with `PAYMENT_PROVIDER=stripe` in production",
    ),
    Setting(
        "STRIPE_WEBHOOK_SECRET",
        TEXT,
        "",
        "`whsec_…` that signs `POST /api/v1/payments/stripe/webhook`; "
        "required with `PAYMENT_PROVIDER=stripe` in production",
    ),
    Setting("STRIPE_API_BASE", TEXT, "", "another Stripe-compatible API address", shown="empty (Stripe's)"),
    Setting(
        "STRIPE_WEBHOOK_TOLERANCE_SECONDS",
        INTEGER,
        300,
        "`Stripe-Signature` timestamps older (or newer) than this are refused",
    ),
    Setting(
        "SUBSCRIPTION_RETRY_DELAYS",
        DAYS_LIST,
        [timedelta(days=1), timedelta(days=3), timedelta(days=5)],
        "waits before each retry of a failed renewal; one more failure cancels",
        env="SUBSCRIPTION_RETRY_DAYS",
    ),
    Setting(
        "SUBSCRIPTION_RENEW_EVERY",
        SECONDS,
        timedelta(minutes=1),
        "how often due renewals are charged",
        env="SUBSCRIPTION_RENEW_EVERY_SECONDS",
    ),
    Setting(
        "SUBSCRIPTION_PENDING_PAYMENT_TIMEOUT",
        MINUTES,
        timedelta(minutes=30),
        "an unfinished charge stops blocking plan changes after this",
        env="SUBSCRIPTION_PENDING_PAYMENT_TIMEOUT_MINUTES",
    ),
)
get = SETTINGS.get
