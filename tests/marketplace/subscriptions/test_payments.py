import uuid

import pytest

from core.errors import Conflict, InvalidInput, InvalidTransition, PaymentRequired, ServiceUnavailable, Unprocessable
from core.models import DomainEvent
from marketplace.subscriptions import services
from marketplace.subscriptions.models import Payment, PaymentEvent, PaymentRefund


def charge(payer, payment_method="tok_visa", amount=2500, reference=None, **kwargs):
    return services.payment_charge(
        payer=payer,
        amount=amount,
        currency="usd",
        purpose="order",
        reference=reference or f"order:{uuid.uuid4()}",
        payment_method=payment_method,
        **kwargs,
    )


@pytest.mark.django_db
def test_successful_charge_is_recorded_and_signalled_after_commit(user, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        payment = charge(user)
    assert (payment.state, payment.amount, payment.currency, payment.provider) == ("succeeded", 2500, "USD", "test")
    assert payment.provider_reference.startswith("testpay_") and payment.succeeded_at is not None
    assert received["succeeded"] == [payment.pk] and received["failed"] == []
    assert list(payment.events.values_list("type", flat=True)) == ["created", "succeeded"]
    assert DomainEvent.objects.filter(type="payment.succeeded", user=user).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token, code",
    [
        ("tok_card_declined", "card_declined"),
        ("tok_insufficient_funds", "insufficient_funds"),
        ("tok_processing_error", "processing_error"),
        ("tok_unknown", "invalid_payment_method"),
    ],
)
def test_declined_charge_is_402_with_the_reason(user, received, token, code, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PaymentRequired) as error:
        charge(user, token)
    assert error.value.status == 402 and error.value.extra["decline_code"] == code
    assert error.value.extra["reason"]
    payment = Payment.objects.get()
    assert payment.state == "failed" and payment.failure_code == code
    assert received["failed"] == [payment.pk] and received["succeeded"] == []


@pytest.mark.django_db
def test_an_unreachable_provider_is_503_and_the_reference_can_be_retried(user):
    reference = f"order:{uuid.uuid4()}"
    with pytest.raises(ServiceUnavailable) as error:
        charge(user, "tok_provider_down", reference=reference)
    assert error.value.extra["retry_after_seconds"] == 30
    assert charge(user, "tok_visa", reference=reference).state == "succeeded"
    assert Payment.objects.filter(reference=reference).count() == 2


@pytest.mark.django_db
def test_charging_a_reference_again_returns_the_first_payment(user):
    reference = f"order:{uuid.uuid4()}"
    first = charge(user, reference=reference)
    assert charge(user, reference=reference).pk == first.pk
    with pytest.raises(Conflict):
        charge(user, reference=reference, amount=999)
    assert Payment.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs",
    [
        {"amount": 0},
        {"amount": -5},
        {"amount": 10**9},
        {"amount": 1.5},
        {"currency": "dollars"},
        {"purpose": "gift"},
        {"reference": ""},
    ],
)
def test_bad_charge_input_is_400_and_records_nothing(user, kwargs):
    args = {
        "payer": user,
        "amount": 100,
        "currency": "USD",
        "purpose": "order",
        "reference": "order:x",
        "payment_method": "tok_visa",
    } | kwargs
    with pytest.raises(InvalidInput):
        services.payment_charge(**args)
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_requires_action_completes_later_through_the_signal(user, received, django_capture_on_commit_callbacks):
    payment = charge(user, "tok_requires_action")
    assert payment.state == "requires_action" and payment.client_secret
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_complete_test_action(payment=payment, succeed=False)
    payment.refresh_from_db()
    assert payment.state == "failed" and received["failed"] == [payment.pk]
    with pytest.raises(InvalidTransition):
        services.payment_complete_test_action(payment=payment)


@pytest.mark.django_db
def test_refunds_partial_then_the_rest_then_nothing_left(user, received, django_capture_on_commit_callbacks):
    payment = charge(user, amount=1000)
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_refund(payment=payment, amount=300, reason="damaged")
    payment.refresh_from_db()
    assert (payment.state, payment.amount_refunded) == ("partially_refunded", 300)
    with pytest.raises(InvalidInput):
        services.payment_refund(payment=payment, amount=701)
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_refund(payment=payment)
    payment.refresh_from_db()
    assert (payment.state, payment.amount_refunded) == ("refunded", 1000)
    assert received["refunded"] == [(payment.pk, 300), (payment.pk, 700)]
    with pytest.raises(InvalidTransition):
        services.payment_refund(payment=payment)
    assert list(PaymentRefund.objects.values_list("amount", "state")) == [(300, "succeeded"), (700, "succeeded")]
    assert DomainEvent.objects.filter(type="payment.refunded").count() == 2


@pytest.mark.django_db
def test_a_failed_payment_cannot_be_refunded(user):
    with pytest.raises(PaymentRequired):
        charge(user, "tok_card_declined")
    with pytest.raises(InvalidTransition):
        services.payment_refund(payment=Payment.objects.get())


@pytest.mark.django_db
def test_a_refund_the_provider_refuses_is_422_and_leaves_the_payment_paid(user):
    payment = charge(user, "tok_refund_fails")
    with pytest.raises(Unprocessable) as error:
        services.payment_refund(payment=payment)
    assert error.value.code == "refund_failed"
    payment.refresh_from_db()
    assert (payment.state, payment.amount_refunded) == ("succeeded", 0)
    assert PaymentRefund.objects.get().state == "failed"
    assert PaymentEvent.objects.filter(payment=payment, type="refund_failed").exists()


@pytest.mark.django_db
def test_subscription_charges_go_through_the_subscription_services(user):
    with pytest.raises(InvalidInput):
        services.payment_charge(
            payer=user,
            amount=100,
            currency="USD",
            purpose="subscription",
            reference="subscription:x",
            payment_method="tok_visa",
        )


@pytest.mark.django_db
def test_payments_api_shows_only_my_payments_and_404s_on_others(user_client, user, make_user):
    mine = charge(user)
    theirs = charge(make_user())
    listing = user_client.get("/api/v1/payments").json()["results"]
    assert [row["id"] for row in listing] == [str(mine.public_id)]
    assert user_client.get(f"/api/v1/payments/{mine.public_id}").json()["amount"] == 2500
    response = user_client.get(f"/api/v1/payments/{theirs.public_id}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_client_secret_is_shown_only_while_an_action_is_pending(user_client, user):
    pending = charge(user, "tok_requires_action")
    paid = charge(user)
    assert user_client.get(f"/api/v1/payments/{pending.public_id}").json()["client_secret"] == pending.client_secret
    assert user_client.get(f"/api/v1/payments/{paid.public_id}").json()["client_secret"] is None


@pytest.mark.django_db
def test_an_abandoned_3ds_payment_stops_blocking_its_reference(user, received, django_capture_on_commit_callbacks):
    from datetime import timedelta

    reference = f"order:{uuid.uuid4()}"
    stuck = charge(user, "tok_requires_action", reference=reference)
    assert charge(user, "tok_visa", reference=reference).pk == stuck.pk  # still in progress: same payment
    Payment.objects.filter(pk=stuck.pk).update(created_at=stuck.created_at - timedelta(minutes=31))
    with django_capture_on_commit_callbacks(execute=True):
        fresh = charge(user, "tok_visa", reference=reference)
    stuck.refresh_from_db()
    assert fresh.pk != stuck.pk and fresh.state == "succeeded"
    assert (stuck.state, stuck.failure_code) == ("cancelled", "abandoned")
    assert received["failed"] == [stuck.pk]
