from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from marketplace.subscriptions import services
from marketplace.subscriptions.models import Payment, Subscription, SubscriptionEvent
from marketplace.subscriptions.periods import add_months


@pytest.fixture
def staff_client(make_user) -> Client:
    client = Client()
    client.force_login(make_user(role="staff"))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model", ["plan", "subscription", "usageentry", "payment", "processedwebhookevent", "ledgerentry"]
)
def test_staff_can_browse_every_billing_table(staff_client, user, model):
    services.subscription_current(user=user)
    services.usage_consume(user=user, kind="generation", units=1, reference="job:1")
    services.ledger_credit(user=user, amount=100, currency="USD", reference="order:1")
    services.payment_charge(
        payer=user, amount=100, currency="USD", purpose="order", reference="order:1", payment_method="tok_visa"
    )
    response = staff_client.get(f"/admin/subscriptions/{model}/")
    assert response.status_code == 200
    filtered = staff_client.get(f"/admin/subscriptions/{model}/?q=example")
    assert filtered.status_code == 200


@pytest.mark.django_db
def test_subscriptions_filter_by_state_and_plan(staff_client, user, make_user, on_plan):
    on_plan(user, "pro")
    services.subscription_current(user=make_user())
    response = staff_client.get(
        "/admin/subscriptions/subscription/?plan__id__exact="
        f"{Subscription.objects.get(user=user).plan_id}&state__exact=active"
    )
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


@pytest.mark.django_db
def test_plan_prices_and_quotas_are_editable_but_not_the_code(staff_client, plans):
    pro = plans["pro"]
    page = staff_client.get(f"/admin/subscriptions/plan/{pro.pk}/change/")
    assert page.status_code == 200 and 'name="code"' not in page.content.decode()


@pytest.mark.django_db
def test_admin_cancel_now_falls_back_to_free(staff_client, user, on_plan):
    paid = on_plan(user, "pro", start=timezone.now())
    response = staff_client.post(
        "/admin/subscriptions/subscription/", {"action": "cancel_now", "_selected_action": [paid.pk]}
    )
    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.state == "cancelled" and paid.cancellation_reason == "cancelled_by_staff"
    assert Subscription.objects.get(user=user, state="active").plan.code == "free"
    assert SubscriptionEvent.objects.get(subscription=paid, type="cancelled").actor.is_staff


@pytest.mark.django_db
def test_admin_renew_now_retries_a_past_due_subscription_at_once(staff_client, user, on_plan):
    end = timezone.now() - timedelta(hours=1)
    paid = on_plan(user, "pro", start=add_months(end, -1), end=end, payment_method="tok_off_session_declined")
    services.subscription_renew_due()
    paid.refresh_from_db()
    assert paid.state == "past_due"
    Subscription.objects.filter(pk=paid.pk).update(payment_method="tok_visa")
    staff_client.post("/admin/subscriptions/subscription/", {"action": "renew_now", "_selected_action": [paid.pk]})
    paid.refresh_from_db()
    assert paid.state == "active" and paid.current_period_start == end


@pytest.mark.django_db
def test_admin_refund_action_refunds_the_payment(staff_client, user):
    payment = services.payment_charge(
        payer=user, amount=700, currency="USD", purpose="other", reference="goodwill:1", payment_method="tok_visa"
    )
    staff_client.post("/admin/subscriptions/payment/", {"action": "refund", "_selected_action": [payment.pk]})
    payment.refresh_from_db()
    assert (payment.state, payment.amount_refunded) == ("refunded", 700)
    assert payment.refunds.get().requested_by.is_staff
    assert Payment.objects.count() == 1
