from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import PaymentRequired
from core.models import DomainEvent
from core.scheduler import registered_periodic_tasks
from marketplace.subscriptions import services
from marketplace.subscriptions.models import Payment, Subscription, UsageEntry
from marketplace.subscriptions.periods import add_months
from tests.marketplace.subscriptions.helpers import T0

END = T0 + timedelta(days=31)  # on_plan's default period: T0 … T0 + 31 days (January 2031)


@pytest.mark.django_db
def test_renewal_charges_the_plan_and_starts_the_next_period_on_the_anchor(user, on_plan):
    subscription = on_plan(user, "pro", start=T0, end=END)
    counts = services.subscription_renew_due(now=END + timedelta(minutes=1))
    assert counts == {"processed": 1, "errors": 0}
    subscription.refresh_from_db()
    assert subscription.state == "active"
    assert (subscription.current_period_start, subscription.current_period_end) == (END, T0.replace(month=3))
    payment = Payment.objects.get()
    assert (payment.amount, payment.currency, payment.state) == (1500, "USD", "succeeded")
    assert payment.metadata["action"] == "renewal"
    assert subscription.events.last().type == "renewed"
    assert DomainEvent.objects.filter(type="subscription.renewed").count() == 1


@pytest.mark.django_db
def test_subscriptions_not_yet_due_are_left_alone(user, on_plan):
    on_plan(user, "pro", start=T0, end=END)
    assert services.subscription_renew_due(now=END - timedelta(seconds=1)) == {"processed": 0, "errors": 0}
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_failed_renewal_goes_past_due_retries_with_backoff_then_falls_back_to_free(user, on_plan):
    paid = on_plan(user, "pro", start=T0, end=END, payment_method="tok_off_session_declined")
    services.subscription_renew_due(now=END)
    paid.refresh_from_db()
    assert paid.state == "past_due" and paid.failed_payment_attempts == 1
    assert paid.next_payment_attempt_at == END + timedelta(days=1)

    services.subscription_renew_due(now=END + timedelta(hours=23))  # not due yet: no new attempt
    assert Payment.objects.count() == 1

    services.subscription_renew_due(now=END + timedelta(days=1))
    paid.refresh_from_db()
    assert (paid.state, paid.failed_payment_attempts) == ("past_due", 2)
    assert paid.next_payment_attempt_at == END + timedelta(days=4)

    services.subscription_renew_due(now=END + timedelta(days=4))
    paid.refresh_from_db()
    assert paid.next_payment_attempt_at == END + timedelta(days=9)

    services.subscription_renew_due(now=END + timedelta(days=9))
    paid.refresh_from_db()
    assert paid.state == "cancelled" and paid.cancellation_reason == "payment_failed"
    assert Payment.objects.filter(state="failed").count() == 4
    assert not Payment.objects.filter(state="succeeded").exists()
    current = Subscription.objects.get(user=user, state="active")
    assert current.plan.code == "free"
    types = list(paid.events.values_list("type", flat=True))
    assert types == ["created", "past_due", "payment_failed", "payment_failed", "cancelled"]
    assert DomainEvent.objects.filter(type="subscription.past_due").count() == 1
    assert DomainEvent.objects.filter(type="subscription.cancelled").count() == 1


@pytest.mark.django_db
def test_a_retry_that_succeeds_restores_the_subscription(user, on_plan):
    paid = on_plan(user, "pro", start=T0, end=END, payment_method="tok_off_session_declined")
    services.subscription_renew_due(now=END)
    Subscription.objects.filter(pk=paid.pk).update(payment_method="tok_visa")
    services.subscription_renew_due(now=END + timedelta(days=1))
    paid.refresh_from_db()
    assert (paid.state, paid.failed_payment_attempts, paid.next_payment_attempt_at) == ("active", 0, None)
    assert (paid.current_period_start, paid.current_period_end) == (END, T0.replace(month=3))


@pytest.mark.django_db
def test_paying_the_overdue_period_by_hand_renews_at_once(user_client, user, on_plan):
    now = timezone.now()
    end = now - timedelta(hours=1)
    paid = on_plan(user, "pro", start=add_months(end, -1), end=end, payment_method="tok_off_session_declined")
    services.subscription_renew_due(now=now)
    paid.refresh_from_db()
    assert paid.state == "past_due"
    assert (
        user_client.post(
            "/api/v1/subscription", {"plan": "studio", "payment_method": "tok_visa"}, format="json"
        ).json()["code"]
        == "subscription_past_due"
    )
    declined = user_client.post(
        "/api/v1/subscription", {"plan": "pro", "payment_method": "tok_card_declined"}, format="json"
    )
    assert declined.status_code == 402
    paid.refresh_from_db()
    assert (paid.state, paid.failed_payment_attempts) == ("past_due", 1)  # a payer's own try is not a retry
    response = user_client.post("/api/v1/subscription", {"plan": "pro", "payment_method": "tok_visa"}, format="json")
    assert response.status_code == 200
    assert response.json()["outcome"] == "renewed"
    paid.refresh_from_db()
    assert paid.state == "active" and paid.payment_method == "tok_visa"
    assert (paid.current_period_start, paid.current_period_end) == (end, add_months(end, 1))


@pytest.mark.django_db
def test_past_due_subscription_out_of_quota_is_402(user, on_plan, plans):
    paid = on_plan(user, "pro", start=T0, end=END, payment_method="tok_card_declined")
    services.usage_consume(user=user, kind="training", units=10, reference="run:all", now=T0 + timedelta(days=1))
    services.subscription_renew_due(now=END)
    paid.refresh_from_db()
    assert paid.state == "past_due"
    with pytest.raises(PaymentRequired) as error:
        services.usage_consume(user=user, kind="training", units=1, reference="run:more", now=END + timedelta(hours=1))
    assert error.value.code == "subscription_past_due"
    assert UsageEntry.objects.count() == 1


@pytest.mark.django_db
def test_free_period_rolls_over_on_read_and_quota_resets(user):
    first = services.subscription_current(user=user, now=T0)
    services.usage_consume(user=user, kind="generation", units=50, reference="job:1", now=T0 + timedelta(days=1))
    later = services.subscription_current(user=user, now=T0 + timedelta(days=40))
    assert later.pk == first.pk
    assert (later.current_period_start, later.current_period_end) == (T0.replace(month=2), T0.replace(month=3))
    entry = services.usage_consume(
        user=user, kind="generation", units=50, reference="job:2", now=T0 + timedelta(days=40)
    )
    assert entry.period_start == T0.replace(month=2)


@pytest.mark.django_db
def test_renewal_after_a_long_outage_starts_afresh_instead_of_billing_the_gap(user, on_plan):
    subscription = on_plan(user, "pro", start=T0, end=END)
    now = END + timedelta(days=70)
    services.subscription_renew_due(now=now)
    subscription.refresh_from_db()
    assert subscription.current_period_start == now and Payment.objects.count() == 1


@pytest.mark.django_db
def test_renewal_sweep_is_registered_and_runs_on_the_worker(user, on_plan, run_tasks):
    from marketplace.subscriptions.tasks import renew_due_subscriptions_task

    spec = registered_periodic_tasks()["subscriptions.renew_due"]
    assert spec.task_path == "marketplace.subscriptions.tasks.renew_due_subscriptions_task"
    end = timezone.now() - timedelta(minutes=1)
    subscription = on_plan(user, "pro", start=add_months(end, -1), end=end)
    renew_due_subscriptions_task.enqueue()
    assert run_tasks() >= 1
    subscription.refresh_from_db()
    assert subscription.current_period_end == add_months(end, 1)
    assert Payment.objects.get().state == "succeeded"
