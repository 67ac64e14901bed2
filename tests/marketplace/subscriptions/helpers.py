"""Helpers for the subscriptions tests (fixtures live in conftest.py): signed Stripe events and a local stand-in for
Stripe's API servers (the one thing that cannot exist here)."""

import hashlib
import hmac
import itertools
import json
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

WEBHOOK_SECRET = "whsec_test_secret"
BANK_URL = "https://hooks.stripe.test/3d_secure_2/authenticate"  # the fake answers with this bank page


T0 = datetime(2031, 1, 1, tzinfo=UTC)


def stripe_signature(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's v1 scheme, computed by hand: HMAC-SHA256 of "<t>.<raw body>" with the endpoint secret."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


_ids = itertools.count(1)


def stripe_event(type: str, obj: dict, *, event_id: str | None = None) -> bytes:
    event = {
        "id": event_id or f"evt_{next(_ids):06d}",
        "object": "event",
        "type": type,
        "api_version": "2026-10-28",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }
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
                fake.requests.append(
                    {
                        "path": self.path,
                        "params": params,
                        "idempotency_key": self.headers.get("Idempotency-Key"),
                        "authorization": self.headers.get("Authorization"),
                    }
                )
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
            return 200, {
                "id": f"re_{n}",
                "object": "refund",
                "status": "succeeded",
                "amount": int(params["amount"]),
                "payment_intent": params["payment_intent"],
            }
        if path != "/v1/payment_intents":
            return 404, {"error": {"type": "invalid_request_error", "message": f"Unknown path {path}"}}
        intent = {
            "id": f"pi_{n}",
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "customer": params.get("customer"),
            "client_secret": None,
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
        }
        method = params.get("payment_method")
        if method == "pm_card_chargeDeclined":
            return 402, {
                "error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "message": "Your card was declined.",
                    "payment_intent": {**intent, "status": "requires_payment_method"},
                }
            }
        if method == "pm_card_threeDSecure2Required":
            intent.update(status="requires_action", client_secret=f"pi_{n}_secret_abc")
            if params.get("return_url"):  # redirects allowed: the bank's page, then back to return_url
                intent["next_action"] = {
                    "type": "redirect_to_url",
                    "redirect_to_url": {"url": f"{BANK_URL}/{n}", "return_url": params["return_url"]},
                }
            else:
                intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
        else:
            intent.update(status="succeeded")
        self.intents[intent["id"]] = intent
        return 200, intent
