"""This app's settings, read at call time (so tests can override them), with the defaults used when unset.

PAYMENT_PROVIDER                  "test" | "stripe" (default "test": the embedded provider, no network)
STRIPE_SECRET_KEY                 sk_… for the stripe provider
STRIPE_WEBHOOK_SECRET             whsec_… that signs POST /api/v1/payments/stripe/webhook
STRIPE_API_BASE                   Stripe's API address (default the library's https://api.stripe.com)
STRIPE_WEBHOOK_TOLERANCE_SECONDS  how old (or how far ahead) a signed webhook may be (default 300)
SUBSCRIPTION_RETRY_DELAYS         waits before each retry of a failed renewal; one more failure cancels
                                  (default 1, 3 and 5 days)
SUBSCRIPTION_RENEW_EVERY          how often the renewal sweep runs (default 1 minute)
SUBSCRIPTION_PENDING_PAYMENT_TIMEOUT  after this, an unfinished charge no longer blocks plan changes (30 min)
"""

from datetime import timedelta

from django.conf import settings


def payment_provider_name() -> str:
    return getattr(settings, "PAYMENT_PROVIDER", "test")


def stripe_secret_key() -> str:
    return getattr(settings, "STRIPE_SECRET_KEY", "")


def stripe_webhook_secret() -> str:
    return getattr(settings, "STRIPE_WEBHOOK_SECRET", "")


def stripe_api_base() -> str:
    return getattr(settings, "STRIPE_API_BASE", "")


def stripe_webhook_tolerance() -> int:
    return int(getattr(settings, "STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300))


def retry_delays() -> list[timedelta]:
    return list(getattr(settings, "SUBSCRIPTION_RETRY_DELAYS",
                        [timedelta(days=1), timedelta(days=3), timedelta(days=5)]))


def renew_every() -> timedelta:
    return getattr(settings, "SUBSCRIPTION_RENEW_EVERY", timedelta(minutes=1))


def pending_payment_timeout() -> timedelta:
    return getattr(settings, "SUBSCRIPTION_PENDING_PAYMENT_TIMEOUT", timedelta(minutes=30))
