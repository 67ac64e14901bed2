"""The periodic sweep: expiry (with refund), lapsed revisions, auto-completion, stuck payments."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import DomainEvent
from core.scheduler import registered_periodic_tasks
from marketplace.commissions.models import Commission, Delivery, Offer
from marketplace.commissions.services import commissions_sweep
from marketplace.commissions.tasks import commissions_sweep_task
from marketplace.subscriptions.models import Payment
from marketplace.subscriptions.selectors import ledger_balance
from tests.marketplace.commissions.helpers import deliver, history, offer, request_revision


def overdue(**fields) -> None:
    Commission.objects.update(due_at=timezone.now() - timedelta(minutes=1), **fields)


def test_the_sweep_is_registered_as_a_periodic_task():
    spec = registered_periodic_tasks()["commissions.sweep"]
    assert spec.task_path == "marketplace.commissions.tasks.commissions_sweep_task"
    assert spec.every == timedelta(minutes=1)


@pytest.mark.django_db
def test_an_awarded_commission_with_no_delivery_by_the_deadline_expires_and_is_refunded(
    client_api, client_user, artist, awarded, run_tasks
):
    overdue()
    commissions_sweep_task.enqueue()
    run_tasks()
    commission = Commission.objects.get()
    assert commission.state == "expired"
    assert Payment.objects.get().state == "refunded"
    assert ("expire", "awarded", "expired") in history(client_api, awarded["id"])
    assert DomainEvent.objects.filter(type="commission.expired", user__in=[client_user, artist]).count() == 2


@pytest.mark.django_db
def test_an_open_brief_past_its_deadline_expires_and_declines_its_offers(artist_client, brief):
    offer(artist_client, brief["id"])
    overdue()
    assert commissions_sweep()["expired"] == 1
    assert Commission.objects.get().state == "expired"
    assert Offer.objects.get().state == "declined"
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_nothing_expires_before_its_deadline(awarded):
    assert commissions_sweep() == {
        "deliveries_settled": 0,
        "payments_reconciled": 0,
        "expired": 0,
        "revisions_lapsed": 0,
        "auto_completed": 0,
    }
    assert Commission.objects.get().state == "awarded"


@pytest.mark.django_db
def test_a_delivered_commission_does_not_expire(artist_client, awarded):
    deliver(artist_client, awarded["id"])
    overdue()
    assert commissions_sweep()["expired"] == 0
    assert Commission.objects.get().state == "delivered"


@pytest.mark.django_db
def test_an_unreviewed_delivery_is_accepted_after_the_window_and_the_artist_paid(
    artist_client, artist, awarded, settings
):
    settings.COMMISSION_AUTO_COMPLETE_AFTER = timedelta(days=14)
    deliver(artist_client, awarded["id"])
    assert commissions_sweep()["auto_completed"] == 0
    Commission.objects.update(state_changed_at=timezone.now() - timedelta(days=15))
    assert commissions_sweep()["auto_completed"] == 1
    commission = Commission.objects.get()
    assert commission.state == "completed" and Delivery.objects.get().state == "accepted"
    assert ledger_balance(user=artist) == {"USD": 4250}
    assert commission.events.last().actor is None and commission.events.last().action == "auto_complete"


@pytest.mark.django_db
def test_a_revision_not_delivered_in_time_returns_the_last_delivery_to_review(client_api, artist_client, awarded):
    delivery = deliver(artist_client, awarded["id"]).json()
    request_revision(client_api, delivery["id"])
    overdue()
    assert commissions_sweep()["revisions_lapsed"] == 1
    assert Commission.objects.get().state == "delivered"
    assert Delivery.objects.get().state == "delivered"
    assert (
        client_api.post(f"/api/v1/commission-deliveries/{delivery['id']}/accept", {}, format="json").status_code == 200
    )


@pytest.mark.django_db
def test_an_acceptance_that_died_before_charging_is_reopened(client_api, artist_client, brief, settings):
    from marketplace.commissions.locks import lock_commission
    from marketplace.commissions.services._history import commission_transition

    settings.COMMISSION_PAYMENT_TIMEOUT = timedelta(minutes=30)
    sent = offer(artist_client, brief["id"]).json()
    commission = lock_commission(Commission.objects.get().pk)  # the claim step, then the process "dies"
    commission.accepted_offer = Offer.objects.get()
    commission.artist, commission.price = commission.accepted_offer.artist, 4500
    Offer.objects.update(state="accepted")
    commission_transition(commission=commission, action="accept_offer", actor_role="client")
    assert commissions_sweep()["payments_reconciled"] == 0  # still within the payment timeout
    Commission.objects.update(state_changed_at=timezone.now() - timedelta(minutes=31))
    assert commissions_sweep()["payments_reconciled"] == 1
    assert Commission.objects.get().state == "open"
    assert Offer.objects.get(public_id=sent["id"]).state == "pending"
