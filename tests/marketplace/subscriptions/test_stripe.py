"""The Stripe provider against a local stand-in for Stripe's servers, and the signed webhook endpoint."""

import json
import time

import pytest

from core.errors import PaymentRequired
from core.models import DomainEvent
from marketplace.subscriptions import services
from marketplace.subscriptions.models import Payment, ProcessedWebhookEvent, Subscription
from tests.marketplace.subscriptions.helpers import WEBHOOK_SECRET, stripe_event, stripe_signature

URL = "/api/v1/payments/stripe/webhook"


def post_webhook(api, payload: bytes, signature: str | None):
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return api.generic("POST", URL, payload, content_type="application/json", **headers)


def charge(payer, payment_method, reference="order:1"):
    return services.payment_charge(
        payer=payer, amount=2500, currency="USD", purpose="order", reference=reference, payment_method=payment_method
    )


@pytest.mark.django_db
def test_stripe_charge_confirms_a_payment_intent_with_an_idempotency_key(user, fake_stripe):
    payment = charge(user, "pm_card_visa")
    assert (payment.state, payment.provider) == ("succeeded", "stripe")
    assert payment.provider_reference.startswith("pi_")
    request = fake_stripe.requests[-1]
    assert request["path"] == "/v1/payment_intents"
    assert request["params"]["amount"] == "2500" and request["params"]["currency"] == "usd"
    assert request["params"]["confirm"] == "true"
    assert request["params"]["metadata[atelier_payment]"] == str(payment.public_id)
    assert request["idempotency_key"] == f"atelier-payment-{payment.public_id}"
    assert request["authorization"] == "Bearer sk_test_atelier"


@pytest.mark.django_db
def test_stripe_card_decline_is_402_with_the_decline_code(user, fake_stripe):
    with pytest.raises(PaymentRequired) as error:
        charge(user, "pm_card_chargeDeclined")
    assert error.value.extra["decline_code"] == "generic_decline"
    assert error.value.extra["reason"] == "Your card was declined."
    assert Payment.objects.get().state == "failed"


@pytest.mark.django_db
def test_stripe_refund_goes_to_stripe(user, fake_stripe):
    payment = charge(user, "pm_card_visa")
    services.payment_refund(payment=payment, amount=500)
    request = fake_stripe.requests[-1]
    assert request["path"] == "/v1/refunds"
    assert (request["params"]["payment_intent"], request["params"]["amount"]) == (payment.provider_reference, "500")
    payment.refresh_from_db()
    assert (payment.state, payment.amount_refunded) == ("partially_refunded", 500)


@pytest.mark.django_db
def test_3ds_upgrade_is_completed_by_the_signed_webhook(
    api, user_client, user, fake_stripe, received, django_capture_on_commit_callbacks
):
    response = user_client.post(
        "/api/v1/subscription", {"plan": "pro", "payment_method": "pm_card_threeDSecure2Required"}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["payment"]["client_secret"].startswith("pi_")
    assert fake_stripe.requests[0]["path"] == "/v1/customers"  # kept on a customer for renewals
    payment = Payment.objects.get()
    intent = fake_stripe.intents[payment.provider_reference] | {"status": "succeeded"}
    payload = stripe_event("payment_intent.succeeded", intent)
    with django_capture_on_commit_callbacks(execute=True):
        ok = post_webhook(api, payload, stripe_signature(payload))
    assert ok.status_code == 200 and ok.json()["duplicate"] is False
    subscription = Subscription.objects.get(user=user, state="active")
    assert subscription.plan.code == "pro" and subscription.provider_customer.startswith("cus_")
    assert subscription.payment_method == "pm_card_threeDSecure2Required"
    payment.refresh_from_db()
    assert payment.state == "succeeded" and received["succeeded"] == [payment.pk]


@pytest.mark.django_db
def test_webhook_event_is_processed_once_and_a_replay_is_a_no_op(api, user, fake_stripe):
    payment = charge(user, "pm_card_threeDSecure2Required")
    payload = stripe_event(
        "payment_intent.succeeded", fake_stripe.intents[payment.provider_reference], event_id="evt_once"
    )
    first = post_webhook(api, payload, stripe_signature(payload))
    replay = post_webhook(api, payload, stripe_signature(payload))
    assert first.status_code == replay.status_code == 200
    assert (first.json()["duplicate"], replay.json()["duplicate"]) == (False, True)
    assert ProcessedWebhookEvent.objects.get().event_id == "evt_once"
    assert DomainEvent.objects.filter(type="payment.succeeded").count() == 1
    assert payment.events.filter(type="succeeded").count() == 1


@pytest.mark.django_db
def test_webhook_failure_event_fails_the_payment(api, user, fake_stripe):
    payment = charge(user, "pm_card_threeDSecure2Required")
    intent = fake_stripe.intents[payment.provider_reference] | {
        "status": "requires_payment_method",
        "last_payment_error": {
            "code": "card_declined",
            "decline_code": "authentication_failed",
            "message": "Authentication failed.",
        },
    }
    payload = stripe_event("payment_intent.payment_failed", intent)
    assert post_webhook(api, payload, stripe_signature(payload)).status_code == 200
    payment.refresh_from_db()
    assert (payment.state, payment.failure_code) == ("failed", "authentication_failed")


def _pending_payment(user, fake_stripe):
    payment = charge(user, "pm_card_threeDSecure2Required")
    return payment, stripe_event("payment_intent.succeeded", fake_stripe.intents[payment.provider_reference])


def _unchanged(payment):
    payment.refresh_from_db()
    return payment.state == "requires_action" and not ProcessedWebhookEvent.objects.exists()


@pytest.mark.django_db
def test_webhook_with_a_bad_signature_is_400_and_changes_nothing(api, user, fake_stripe):
    payment, payload = _pending_payment(user, fake_stripe)
    tampered = payload.replace(b'"payment_intent.succeeded"', b'"payment_intent.succeeded" ')
    response = post_webhook(api, tampered, stripe_signature(payload))
    assert response.status_code == 400
    assert response.json()["code"] == "webhook_signature_invalid"
    assert response["Content-Type"].startswith("application/problem+json")
    assert _unchanged(payment)


@pytest.mark.django_db
def test_webhook_signed_with_another_secret_is_400(api, user, fake_stripe):
    payment, payload = _pending_payment(user, fake_stripe)
    response = post_webhook(api, payload, stripe_signature(payload, secret="whsec_someone_else"))
    assert response.status_code == 400 and response.json()["code"] == "webhook_signature_invalid"
    assert _unchanged(payment)


@pytest.mark.django_db
# 30 s past the tolerance either way: a busy machine may take seconds between signing and checking, which brings a
# future timestamp closer to "now" (at +301 s that once passed the check)
@pytest.mark.parametrize("offset", [-330, +330])
def test_webhook_outside_the_300s_tolerance_is_400(api, user, fake_stripe, offset):
    payment, payload = _pending_payment(user, fake_stripe)
    response = post_webhook(api, payload, stripe_signature(payload, timestamp=int(time.time()) + offset))
    assert response.status_code == 400
    assert response.json()["code"] == "webhook_timestamp_outside_tolerance"
    assert _unchanged(payment)


@pytest.mark.django_db
@pytest.mark.parametrize("signature", [None, "", "garbage", "t=abc,v1=00"])
def test_webhook_without_a_usable_signature_is_400(api, user, fake_stripe, signature):
    payment, payload = _pending_payment(user, fake_stripe)
    assert post_webhook(api, payload, signature).status_code == 400
    assert _unchanged(payment)


@pytest.mark.django_db
def test_signed_payload_that_is_not_an_event_is_400(api, webhook_secret):
    payload = json.dumps({"hello": "world"}).encode()
    response = post_webhook(api, payload, stripe_signature(payload))
    assert response.status_code == 400 and response.json()["code"] == "webhook_payload_invalid"


@pytest.mark.django_db
def test_unknown_events_are_acknowledged_and_recorded(api, webhook_secret):
    payload = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    response = post_webhook(api, payload, stripe_signature(payload, secret=WEBHOOK_SECRET))
    assert response.status_code == 200
    assert ProcessedWebhookEvent.objects.get().outcome == "ignored"


@pytest.mark.django_db
def test_webhook_is_off_until_a_secret_is_configured(api, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = stripe_event("customer.created", {"id": "cus_1"})
    response = post_webhook(api, payload, stripe_signature(payload))
    assert response.status_code == 404 and response.json()["code"] == "webhook_not_configured"
    assert not ProcessedWebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_payment_that_succeeds_after_it_was_abandoned_is_refunded(
    api, user, fake_stripe, run_tasks, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    services.subscription_change_plan(user=user, plan="pro", payment_method="pm_card_threeDSecure2Required")
    abandoned = Payment.objects.get()
    services.subscription_change_plan(
        user=user, plan="pro", payment_method="pm_card_visa", now=timezone.now() + timedelta(hours=1)
    )
    abandoned.refresh_from_db()
    assert abandoned.state == "cancelled"
    payload = stripe_event("payment_intent.succeeded", fake_stripe.intents[abandoned.provider_reference])
    assert post_webhook(api, payload, stripe_signature(payload)).status_code == 200
    run_tasks()
    abandoned.refresh_from_db()
    assert (abandoned.state, abandoned.amount_refunded) == ("refunded", abandoned.amount)
    assert Subscription.objects.get(user=user, state="active").plan.code == "pro"
    assert Payment.objects.filter(state="succeeded").count() == 1  # the payment that did upgrade


@pytest.mark.django_db
def test_webhook_needs_no_csrf_token_or_login(webhook_secret):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    payload = stripe_event("customer.created", {"id": "cus_2", "object": "customer"})
    response = client.post(
        URL, payload, content_type="application/json", headers={"Stripe-Signature": stripe_signature(payload)}
    )
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_webhook_without_a_signature_is_400_whether_or_not_the_endpoint_is_on(api, settings):
    payload = stripe_event("customer.created", {"id": "cus_1"})
    for secret in ("", WEBHOOK_SECRET):
        settings.STRIPE_WEBHOOK_SECRET = secret
        response = post_webhook(api, payload, None)
        assert response.status_code == 400 and response.json()["code"] == "webhook_signature_invalid"
    assert not ProcessedWebhookEvent.objects.exists()
