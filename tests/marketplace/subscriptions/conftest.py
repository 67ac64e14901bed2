"""Fixtures for the subscriptions suite: plans, subscription helpers, signal capture, signed Stripe webhooks,
and a local stand-in for Stripe's API servers (the one thing that cannot exist here)."""

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

from marketplace.subscriptions import signals
from marketplace.subscriptions.models import Plan, Subscription, SubscriptionState

WEBHOOK_SECRET = "whsec_test_secret"
T0 = datetime(2031, 1, 1, tzinfo=UTC)


@pytest.fixture
def plans(db) -> dict[str, Plan]:
    return {plan.code: plan for plan in Plan.objects.all()}


@pytest.fixture
def on_plan(plans) -> Callable[..., Subscription]:
    """Put `user` on `plan` directly (no payment), with a chosen period: the state a test starts from."""
    from marketplace.subscriptions.services import subscription_current

    def make(user, code: str, *, start: datetime = T0, end: datetime | None = None, payment_method: str = "tok_visa",
             state: str = SubscriptionState.ACTIVE) -> Subscription:
        subscription = subscription_current(user=user, now=start)
        end = end or start + timedelta(days=31)
        Subscription.objects.filter(pk=subscription.pk).update(
            plan=plans[code], billing_anchor=start, current_period_start=start, current_period_end=end,
            payment_method=payment_method, state=state)
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


def stripe_signature(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's v1 scheme, computed by hand: HMAC-SHA256 of "<t>.<raw body>" with the endpoint secret."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


_ids = itertools.count(1)


def stripe_event(type: str, obj: dict, *, event_id: str | None = None) -> bytes:
    event = {"id": event_id or f"evt_{next(_ids):06d}", "object": "event", "type": type, "api_version": "2026-10-28",
             "created": int(time.time()), "livemode": False, "data": {"object": obj}}
    return json.dumps(event).encode()


class FakeStripe:
    """Answers the few Stripe endpoints the provider calls, the way Stripe does for its test cards."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.intents: dict[str, dict] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                params = dict(parse_qsl(body))
                fake.requests.append({"path": self.path, "params": params,
                                      "idempotency_key": self.headers.get("Idempotency-Key"),
                                      "authorization": self.headers.get("Authorization")})
                status, payload = fake.answer(self.path, params)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_{next(_ids)}")
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def answer(self, path: str, params: dict) -> tuple[int, dict]:
        n = next(_ids)
        if path == "/v1/customers":
            return 200, {"id": f"cus_{n}", "object": "customer"}
        if path == "/v1/refunds":
            return 200, {"id": f"re_{n}", "object": "refund", "status": "succeeded", "amount": int(params["amount"]),
                         "payment_intent": params["payment_intent"]}
        if path != "/v1/payment_intents":
            return 404, {"error": {"type": "invalid_request_error", "message": f"Unknown path {path}"}}
        intent = {"id": f"pi_{n}", "object": "payment_intent", "amount": int(params["amount"]),
                  "currency": params["currency"], "customer": params.get("customer"), "client_secret": None,
                  "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")}}
        method = params.get("payment_method")
        if method == "pm_card_chargeDeclined":
            return 402, {"error": {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                                   "message": "Your card was declined.",
                                   "payment_intent": {**intent, "status": "requires_payment_method"}}}
        if method == "pm_card_threeDSecure2Required":
            intent.update(status="requires_action", client_secret=f"pi_{n}_secret_abc")
        else:
            intent.update(status="succeeded")
        self.intents[intent["id"]] = intent
        return 200, intent


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
