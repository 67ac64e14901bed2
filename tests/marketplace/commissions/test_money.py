"""Money: the client's charge on acceptance (declines, 3-D Secure), refunds on cancellation, the artist's
payout on completion."""

import pytest
from django_tasks_db.models import DBTaskResult

from core.models import DomainEvent
from marketplace.commissions.models import Commission, Offer
from marketplace.subscriptions.models import Payment
from marketplace.subscriptions.selectors import ledger_balance
from marketplace.subscriptions.services import payment_complete_test_action
from tests.marketplace.commissions.helpers import accept, accept_delivery, cancel, deliver, history, offer


@pytest.mark.django_db
def test_cancelling_an_awarded_commission_refunds_the_client(client_api, client_user, artist, awarded):
    response = cancel(client_api, awarded["id"], note="Plans changed.")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "cancelled"
    payment = Payment.objects.get()
    assert payment.state == "refunded" and payment.amount_refunded == 5000
    assert response.json()["payment"]["state"] == "refunded"
    assert history(client_api, awarded["id"])[-2:] == [
        ("cancel", "awarded", "cancelled"),
        ("refunded", "cancelled", "cancelled"),
    ]
    assert DomainEvent.objects.filter(type="commission.cancelled", user__in=[client_user, artist]).count() == 2
    assert ledger_balance(user=artist) == {}


@pytest.mark.django_db
def test_the_artist_backing_out_refunds_the_client(artist_client, awarded):
    response = cancel(artist_client, awarded["id"], note="I am ill.")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert Payment.objects.get().state == "refunded"


@pytest.mark.django_db
def test_the_queued_refund_does_nothing_more_after_the_immediate_one(client_api, awarded, run_tasks):
    cancel(client_api, awarded["id"])
    assert DBTaskResult.objects.filter(task_path__endswith="refund_commission_task").count() == 1
    run_tasks()
    payment = Payment.objects.get()
    assert payment.state == "refunded" and payment.refunds.count() == 1


@pytest.mark.django_db
def test_a_refund_the_provider_refuses_leaves_the_commission_cancelled_and_the_refund_queued(
    client_api, artist_client, brief
):
    sent = offer(artist_client, brief["id"]).json()
    assert accept(client_api, sent["id"], payment_method="tok_refund_fails").status_code == 200
    response = cancel(client_api, brief["id"])
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert Payment.objects.get().state == "succeeded"  # not refunded yet: the queued task tries again
    assert DBTaskResult.objects.filter(task_path__endswith="refund_commission_task", status="READY").exists()


@pytest.mark.django_db
def test_cancelling_an_open_brief_declines_its_offers_and_charges_nothing(client_api, artist_client, brief):
    sent = offer(artist_client, brief["id"]).json()
    assert cancel(client_api, brief["id"]).json()["state"] == "cancelled"
    assert Offer.objects.get(public_id=sent["id"]).state == "declined"
    assert not Payment.objects.exists()
    assert not DBTaskResult.objects.filter(task_path__endswith="refund_commission_task").exists()


@pytest.mark.django_db
def test_a_declined_card_is_402_and_the_brief_stays_open(client_api, artist_client, brief):
    sent = offer(artist_client, brief["id"]).json()
    response = accept(client_api, sent["id"], payment_method="tok_card_declined")
    assert response.status_code == 402 and response.json()["code"] == "payment_declined"
    commission = Commission.objects.get()
    assert commission.state == "open" and commission.artist is None and commission.price is None
    assert Offer.objects.get().state == "pending"
    assert history(client_api, brief["id"])[-2:] == [
        ("accept_offer", "open", "payment_pending"),
        ("payment_failed", "payment_pending", "open"),
    ]
    retried = accept(client_api, sent["id"], payment_method="tok_visa")
    assert retried.status_code == 200 and retried.json()["state"] == "awarded"


@pytest.mark.django_db
def test_a_payment_needing_3ds_waits_then_awards_when_it_completes(
    client_api, artist_client, brief, django_capture_on_commit_callbacks
):
    sent = offer(artist_client, brief["id"]).json()
    response = accept(client_api, sent["id"], payment_method="tok_requires_action")
    assert response.status_code == 202, response.json()
    assert response.json()["state"] == "payment_pending"
    assert response.json()["payment"]["client_secret"]
    assert deliver(artist_client, brief["id"]).status_code == 409
    with django_capture_on_commit_callbacks(execute=True):
        payment_complete_test_action(payment=Payment.objects.get(), succeed=True)
    detail = client_api.get(f"/api/v1/commissions/{brief['id']}").json()
    assert detail["state"] == "awarded" and detail["payment"]["state"] == "succeeded"


@pytest.mark.django_db
def test_a_failed_3ds_reopens_the_brief(client_api, artist_client, brief, django_capture_on_commit_callbacks):
    sent = offer(artist_client, brief["id"]).json()
    accept(client_api, sent["id"], payment_method="tok_requires_action")
    with django_capture_on_commit_callbacks(execute=True):
        payment_complete_test_action(payment=Payment.objects.get(), succeed=False)
    assert Commission.objects.get().state == "open"
    assert Offer.objects.get().state == "pending"


@pytest.mark.django_db
def test_cancelling_while_3ds_is_pending_abandons_the_payment(client_api, artist_client, brief):
    sent = offer(artist_client, brief["id"]).json()
    accept(client_api, sent["id"], payment_method="tok_requires_action")
    assert cancel(client_api, brief["id"]).json()["state"] == "cancelled"
    assert Payment.objects.get().state == "cancelled"


@pytest.mark.django_db
def test_acceptance_credits_the_artist_the_price_less_the_platform_fee(client_api, artist_client, artist, brief):
    sent = offer(artist_client, brief["id"], price=1999).json()
    accept(client_api, sent["id"])
    delivery = deliver(artist_client, brief["id"]).json()
    body = accept_delivery(client_api, delivery["id"]).json()
    assert body["platform_fee"] == 299 and body["payout"] == 1700  # 15% rounded down: the cent goes to the artist
    assert ledger_balance(user=artist) == {"USD": 1700}
    assert Payment.objects.get().state == "succeeded"  # funds released to the artist, not refunded
