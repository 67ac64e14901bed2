"""Fixtures for the subscriptions suite: plans, subscription helpers, signal capture, signed Stripe webhooks,
and a local stand-in for Stripe's API servers (the one thing that cannot exist here)."""

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

from marketplace.subscriptions import signals
from marketplace.subscriptions.models import Plan, Subscription, SubscriptionState
from tests.marketplace.subscriptions.helpers import T0, WEBHOOK_SECRET, FakeStripe


@pytest.fixture
def plans(db) -> dict[str, Plan]:
    return {plan.code: plan for plan in Plan.objects.all()}


@pytest.fixture
def on_plan(plans) -> Callable[..., Subscription]:
    """Put `user` on `plan` directly (no payment), with a chosen period: the state a test starts from."""
    from marketplace.subscriptions.services import subscription_current

    def make(
        user,
        code: str,
        *,
        start: datetime = T0,
        end: datetime | None = None,
        payment_method: str = "tok_visa",
        state: str = SubscriptionState.ACTIVE,
    ) -> Subscription:
        subscription = subscription_current(user=user, now=start)
        end = end or start + timedelta(days=31)
        Subscription.objects.filter(pk=subscription.pk).update(
            plan=plans[code],
            billing_anchor=start,
            current_period_start=start,
            current_period_end=end,
            payment_method=payment_method,
            state=state,
        )
        subscription.refresh_from_db()
        return subscription

    return make


@pytest.fixture
def received() -> Iterator[dict[str, list]]:
    """Payment signals received (they fire on commit: use django_capture_on_commit_callbacks)."""
    seen: dict[str, list] = {"succeeded": [], "failed": [], "refunded": []}
    receivers = {
        "succeeded": lambda sender, payment, **kw: seen["succeeded"].append(payment.pk),
        "failed": lambda sender, payment, **kw: seen["failed"].append(payment.pk),
        "refunded": lambda sender, payment, amount, **kw: seen["refunded"].append((payment.pk, amount)),
    }
    for name, receiver in receivers.items():
        getattr(signals, f"payment_{name}").connect(receiver, weak=False)
    yield seen
    for name, receiver in receivers.items():
        getattr(signals, f"payment_{name}").disconnect(receiver)


@pytest.fixture
def fake_stripe(settings) -> Iterator[FakeStripe]:
    fake = FakeStripe()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_atelier"
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def webhook_secret(settings) -> str:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return WEBHOOK_SECRET
