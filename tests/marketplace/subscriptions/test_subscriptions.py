from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import DomainEvent
from marketplace.subscriptions import services
from marketplace.subscriptions.models import (
    Payment,
    PaymentState,
    Subscription,
    SubscriptionEvent,
    SubscriptionState,
)
from tests.marketplace.subscriptions.helpers import T0


def subscribe(client, plan, payment_method="tok_visa", **headers):
    return client.post(
        "/api/v1/subscription", {"plan": plan, "payment_method": payment_method}, format="json", **headers
    )


@pytest.mark.django_db
def test_first_read_creates_one_free_subscription_with_an_event(user_client, user):
    first = user_client.get("/api/v1/subscription")
    second = user_client.get("/api/v1/subscription")
    assert first.status_code == second.status_code == 200
    body = first.json()
    assert body["id"] == second.json()["id"]
    assert body["plan"]["code"] == "free" and body["state"] == "active"
    assert body["quotas"]["generation"] == {
        "limit": 50,
        "used": 0,
        "remaining": 50,
        "resets_at": body["current_period_end"],
    }
    assert Subscription.objects.filter(user=user).count() == 1
    assert list(SubscriptionEvent.objects.values_list("type", flat=True)) == ["created"]
    assert DomainEvent.objects.filter(type="subscription.created", user=user).count() == 1


@pytest.mark.django_db
def test_upgrade_from_free_charges_full_price_and_starts_a_new_period(user_client, user):
    before = timezone.now()
    response = subscribe(user_client, "pro")
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "upgraded"
    assert body["payment"]["amount"] == 1500 and body["payment"]["state"] == "succeeded"
    assert body["subscription"]["plan"]["code"] == "pro"
    assert body["subscription"]["quotas"]["generation"]["limit"] == 2000
    subscription = Subscription.objects.get(user=user, state="active")
    assert subscription.current_period_start >= before
    assert subscription.payment_method == "tok_visa"
    payment = Payment.objects.get(payer=user)
    assert payment.reference == f"subscription:{subscription.public_id}" and payment.purpose == "subscription"
    assert SubscriptionEvent.objects.filter(subscription=subscription, type="upgraded", actor=user).exists()
    assert DomainEvent.objects.filter(type="subscription.upgraded").count() == 1
    assert DomainEvent.objects.filter(type="payment.succeeded").count() == 1


@pytest.mark.django_db
def test_upgrade_mid_period_charges_the_prorated_difference(user, on_plan):
    subscription = on_plan(user, "pro", start=T0, end=T0 + timedelta(days=30))
    change = services.subscription_change_plan(user=user, plan="studio", now=T0 + timedelta(days=10))
    assert change.outcome == "upgraded"
    # (4900 − 1500) × 20/30 days = 2266.67 → 2267 (half up); the period is kept.
    assert change.payment.amount == 2267
    subscription.refresh_from_db()
    assert subscription.plan.code == "studio"
    assert (subscription.current_period_start, subscription.current_period_end) == (T0, T0 + timedelta(days=30))


@pytest.mark.django_db
def test_upgrade_keeps_what_was_used_this_period(user, on_plan):
    on_plan(user, "pro", start=T0)
    services.usage_consume(user=user, kind="generation", units=40, reference="job:1", now=T0 + timedelta(days=1))
    change = services.subscription_change_plan(user=user, plan="studio", now=T0 + timedelta(days=2))
    from marketplace.subscriptions.selectors import subscription_quotas

    quota = subscription_quotas(subscription=change.subscription)["generation"]
    assert (quota.limit, quota.used, quota.remaining) == (10_000, 40, 9_960)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token, code",
    [
        ("tok_card_declined", "card_declined"),
        ("tok_insufficient_funds", "insufficient_funds"),
        ("tok_expired_card", "expired_card"),
        ("tok_processing_error", "processing_error"),
    ],
)
def test_declined_upgrade_is_402_with_the_reason_and_changes_nothing(user_client, user, token, code):
    user_client.get("/api/v1/subscription")
    response = subscribe(user_client, "pro", token)
    assert response.status_code == 402
    body = response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    assert body["code"] == "payment_declined" and body["decline_code"] == code and body["reason"]
    subscription = Subscription.objects.get(user=user)
    assert subscription.plan.code == "free" and subscription.pending_payment is None
    assert subscription.payment_method == ""
    assert not Payment.objects.filter(state=PaymentState.SUCCEEDED).exists()
    assert list(SubscriptionEvent.objects.values_list("type", flat=True)) == ["created"]
    assert (
        not DomainEvent.objects.filter(type__startswith="subscription.").exclude(type="subscription.created").exists()
    )


@pytest.mark.django_db
def test_upgrade_without_a_payment_method_is_400(user_client, user):
    response = user_client.post("/api/v1/subscription", {"plan": "pro"}, format="json")
    assert response.status_code == 400
    assert "payment_method" in response.json()["errors"]
    assert not Payment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value",
    [
        ("price", 0),
        ("state", "active"),
        ("user", "someone"),
        ("amount", 1),
        ("current_period_end", "2099-01-01T00:00:00Z"),
    ],
)
def test_writable_field_abuse_is_400_and_changes_nothing(user_client, user, field, value):
    response = user_client.post(
        "/api/v1/subscription", {"plan": "pro", "payment_method": "tok_visa", field: value}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Payment.objects.exists()
    assert not Subscription.objects.filter(user=user, plan__code="pro").exists()


@pytest.mark.django_db
def test_actions_take_no_body(user_client, user, on_plan):
    on_plan(user, "pro", start=timezone.now())
    response = user_client.post("/api/v1/subscription/cancel", {"state": "cancelled"}, format="json")
    assert response.status_code == 400
    assert not Subscription.objects.get(user=user).cancel_at_period_end


@pytest.mark.django_db
def test_idempotency_key_replays_the_upgrade_without_charging_twice(user_client, user):
    first = subscribe(user_client, "pro", HTTP_IDEMPOTENCY_KEY="upgrade-1")
    second = subscribe(user_client, "pro", HTTP_IDEMPOTENCY_KEY="upgrade-1")
    assert first.status_code == second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert Payment.objects.filter(payer=user).count() == 1


@pytest.mark.django_db
def test_api_keys_cannot_touch_billing(user, client_for):
    from rest_framework.test import APIClient

    from marketplace.accounts.services import api_key_create

    key = api_key_create(user=user, name="ci", scopes=["profile:read", "profile:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.secret}")
    assert subscribe(client, "pro").status_code == 403
    assert client.get("/api/v1/subscription").status_code == 403
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_anonymous_cannot_read_a_subscription(api):
    assert api.get("/api/v1/subscription").status_code == 401


@pytest.mark.django_db
def test_downgrade_waits_for_the_period_end_then_applies_without_charge(user, on_plan):
    subscription = on_plan(user, "pro", start=T0, end=T0 + timedelta(days=31))
    change = services.subscription_change_plan(user=user, plan="free", now=T0 + timedelta(days=3))
    assert change.outcome == "downgrade_scheduled" and change.payment is None
    subscription.refresh_from_db()
    assert (subscription.plan.code, subscription.pending_plan.code) == ("pro", "free")
    services.subscription_renew_due(now=T0 + timedelta(days=31, minutes=1))
    subscription.refresh_from_db()
    assert subscription.plan.code == "free" and subscription.pending_plan is None
    assert subscription.current_period_start == T0 + timedelta(days=31)
    assert not Payment.objects.exists()
    types = list(subscription.events.values_list("type", flat=True))
    assert types[-3:] == ["downgrade_scheduled", "downgraded", "renewed"]


@pytest.mark.django_db
def test_downgrade_between_paid_plans_charges_the_lower_price_at_renewal(user, on_plan):
    on_plan(user, "studio", start=T0, end=T0 + timedelta(days=31))
    services.subscription_change_plan(user=user, plan="pro", now=T0 + timedelta(days=3))
    services.subscription_renew_due(now=T0 + timedelta(days=31))
    subscription = Subscription.objects.get(user=user)
    assert subscription.plan.code == "pro" and subscription.state == "active"
    assert list(Payment.objects.values_list("amount", "state")) == [(1500, "succeeded")]


@pytest.mark.django_db
def test_keeping_the_current_plan_undoes_a_scheduled_downgrade(user, on_plan):
    on_plan(user, "studio", start=T0)
    services.subscription_change_plan(user=user, plan="pro", now=T0 + timedelta(days=1))
    change = services.subscription_change_plan(user=user, plan="studio", now=T0 + timedelta(days=2))
    assert change.outcome == "kept" and change.subscription.pending_plan is None
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_cancel_at_period_end_then_resume(user_client, user, on_plan):
    on_plan(user, "pro", start=timezone.now() - timedelta(days=1))
    cancelled = user_client.post("/api/v1/subscription/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["cancel_at_period_end"] is True and cancelled.json()["state"] == "active"
    assert user_client.post("/api/v1/subscription/cancel").status_code == 200  # idempotent
    resumed = user_client.post("/api/v1/subscription/resume")
    assert resumed.status_code == 200 and resumed.json()["cancel_at_period_end"] is False
    assert user_client.post("/api/v1/subscription/resume").json()["code"] == "not_cancelling"
    types = list(SubscriptionEvent.objects.filter(subscription__user=user).values_list("type", flat=True))
    assert types == ["created", "cancel_scheduled", "resumed"]
    assert DomainEvent.objects.filter(type="subscription.resumed").count() == 1


@pytest.mark.django_db
def test_cancelled_subscription_ends_at_period_end_and_falls_back_to_free(user, on_plan):
    paid = on_plan(user, "pro", start=T0, end=T0 + timedelta(days=31))
    services.subscription_cancel(user=user, now=T0 + timedelta(days=5))
    assert services.subscription_current(user=user, now=T0 + timedelta(days=30)).pk == paid.pk
    current = services.subscription_current(user=user, now=T0 + timedelta(days=31, seconds=1))
    paid.refresh_from_db()
    assert paid.state == "cancelled" and paid.cancellation_reason == "cancelled"
    assert current.pk != paid.pk and current.plan.code == "free" and current.state == "active"
    assert not Payment.objects.exists()
    assert DomainEvent.objects.filter(type="subscription.cancelled").count() == 1


@pytest.mark.django_db
def test_resume_after_the_period_ended_is_too_late(user, on_plan):
    on_plan(user, "pro", start=T0, end=T0 + timedelta(days=31))
    services.subscription_cancel(user=user, now=T0 + timedelta(days=5))
    from core.errors import Conflict

    with pytest.raises(Conflict):
        services.subscription_resume(user=user, now=T0 + timedelta(days=32))
    assert services.subscription_current(user=user, now=T0 + timedelta(days=32)).plan.code == "free"


@pytest.mark.django_db
def test_cancelling_the_free_plan_is_409(user_client):
    response = user_client.post("/api/v1/subscription/cancel")
    assert response.status_code == 409
    assert response.json()["code"] == "nothing_to_cancel"


@pytest.mark.django_db
def test_upgrade_needing_3ds_is_202_and_applies_when_completed(
    user_client, user, received, django_capture_on_commit_callbacks
):
    response = subscribe(user_client, "pro", "tok_requires_action")
    assert response.status_code == 202
    body = response.json()
    assert body["outcome"] == "requires_action" and body["payment"]["client_secret"]
    assert body["subscription"]["plan"]["code"] == "free"
    assert body["subscription"]["pending_payment"]["id"] == body["payment"]["id"]
    assert subscribe(user_client, "studio").json()["code"] == "payment_in_progress"
    payment = Payment.objects.get(public_id=body["payment"]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_complete_test_action(payment=payment)
    subscription = Subscription.objects.get(user=user, state="active")
    assert subscription.plan.code == "pro" and subscription.pending_payment is None
    assert received["succeeded"] == [payment.pk]


@pytest.mark.django_db
def test_abandoned_3ds_upgrade_stops_blocking_after_the_timeout(user):
    change = services.subscription_change_plan(user=user, plan="pro", payment_method="tok_requires_action")
    later = timezone.now() + timedelta(minutes=31)  # SUBSCRIPTION_PENDING_PAYMENT_TIMEOUT defaults to 30 minutes
    retry = services.subscription_change_plan(user=user, plan="pro", payment_method="tok_visa", now=later)
    assert retry.outcome == "upgraded"
    change.payment.refresh_from_db()
    assert change.payment.state == "cancelled" and change.payment.failure_code == "abandoned"


@pytest.mark.django_db
def test_first_paid_subscription_starts_a_trial_when_the_plan_has_one(user, plans):
    plans["pro"].trial_days = 14
    plans["pro"].save()
    now = timezone.now()
    change = services.subscription_change_plan(user=user, plan="pro", payment_method="tok_visa", now=now)
    assert change.outcome == "trial_started" and change.payment is None
    subscription = change.subscription
    assert subscription.state == SubscriptionState.TRIALING
    assert subscription.trial_end == subscription.current_period_end == now + timedelta(days=14)
    services.subscription_renew_due(now=now + timedelta(days=14))
    subscription.refresh_from_db()
    assert subscription.state == "active"
    assert list(Payment.objects.values_list("amount", "state")) == [(1500, "succeeded")]
    assert subscription.current_period_start == now + timedelta(days=14)


@pytest.mark.django_db
def test_a_missing_free_plan_is_recreated_rather_than_failing(user_client, user):
    from marketplace.subscriptions.models import Plan

    Plan.objects.filter(code="free").delete()
    response = user_client.get("/api/v1/subscription")
    assert response.status_code == 200 and response.json()["plan"]["code"] == "free"
    assert Plan.objects.get(code="free").generations_per_period == 50
