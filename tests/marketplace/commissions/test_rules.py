"""The state machine's one table, checked exhaustively, and the invalid transitions over the API (409 naming the
state)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import Forbidden, InvalidTransition
from marketplace.commissions.models import Commission, CommissionState, Offer
from marketplace.commissions.transitions import RULES, transition_check
from tests.marketplace.commissions.helpers import (
    accept,
    accept_delivery,
    cancel,
    deliver,
    offer,
    png,
    request_revision,
    stored_files,
)

ALL_STATES = list(CommissionState.values)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.action}-{rule.actor}")
def test_every_rule_refuses_every_state_outside_its_sources(rule):
    for state in ALL_STATES:
        if state in rule.sources:
            assert transition_check(state=state, action=rule.action, actor=rule.actor) is rule
        else:
            with pytest.raises(InvalidTransition) as raised:
                transition_check(state=state, action=rule.action, actor=rule.actor)
            assert raised.value.extra["state"] == state and raised.value.status == 409


@pytest.mark.parametrize("action", sorted({rule.action for rule in RULES}))
def test_actors_missing_from_the_table_are_forbidden_in_every_state(action):
    allowed = {rule.actor for rule in RULES if rule.action == action}
    for actor in {"client", "artist", "system"} - allowed:
        for state in ALL_STATES:
            with pytest.raises(Forbidden):
                transition_check(state=state, action=action, actor=actor)


def test_final_states_have_no_way_out():
    for state in (CommissionState.COMPLETED, CommissionState.CANCELLED, CommissionState.EXPIRED):
        assert not [rule for rule in RULES if state in rule.sources]


def assert_conflict(response, state, code="invalid_transition"):
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == code
    assert response.json()["state"] == state
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_delivering_before_an_offer_is_accepted_is_409_open(artist_client, brief):
    offer(artist_client, brief["id"])
    assert_conflict(deliver(artist_client, brief["id"]), "open")
    assert Commission.objects.get().deliveries.count() == 0


@pytest.mark.django_db
def test_accepting_twice_is_409_awarded_and_charges_once(client_api, awarded):
    from marketplace.subscriptions.models import Payment

    response = accept(client_api, awarded["accepted_offer"])
    assert_conflict(response, "awarded")
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_accepting_a_second_offer_after_one_was_accepted_is_409(client_api, artist_client, other_artist_api, brief):
    first = offer(artist_client, brief["id"]).json()
    second = offer(other_artist_api, brief["id"]).json()
    assert accept(client_api, first["id"]).status_code == 200
    assert_conflict(accept(client_api, second["id"]), "awarded")
    assert Offer.objects.get(public_id=second["id"]).state == "declined"


@pytest.mark.django_db
def test_a_revision_beyond_the_included_number_is_409(client_api, artist_client, awarded):
    first = deliver(artist_client, awarded["id"]).json()
    assert request_revision(client_api, first["id"]).status_code == 200
    second = deliver(artist_client, awarded["id"]).json()
    response = request_revision(client_api, second["id"])
    assert_conflict(response, "delivered", code="revision_limit_reached")
    assert response.json()["revisions_allowed"] == response.json()["revisions_used"] == 1
    commission = Commission.objects.get()
    assert commission.state == "delivered" and commission.revisions_used == 1


@pytest.mark.django_db
def test_delivering_after_the_deadline_is_409(artist_client, awarded, private_media):
    Commission.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    response = deliver(artist_client, awarded["id"])
    assert_conflict(response, "awarded", code="deadline_passed")
    assert Commission.objects.get().deliveries.count() == 0
    assert stored_files(private_media) == []


@pytest.mark.django_db
def test_cancelling_after_delivery_is_409_delivered(client_api, artist_client, awarded):
    deliver(artist_client, awarded["id"])
    assert_conflict(cancel(client_api, awarded["id"]), "delivered")
    assert Commission.objects.get().state == "delivered"


@pytest.mark.django_db
def test_accepting_a_delivery_twice_is_409_and_credits_once(client_api, artist_client, artist, awarded):
    from marketplace.subscriptions.selectors import ledger_entries_for

    delivery = deliver(artist_client, awarded["id"]).json()
    assert accept_delivery(client_api, delivery["id"]).status_code == 200
    assert_conflict(accept_delivery(client_api, delivery["id"]), "completed")
    assert ledger_entries_for(user=artist).count() == 1


@pytest.mark.django_db
def test_an_older_delivery_cannot_be_accepted_after_a_revision_was_asked(client_api, artist_client, awarded):
    first = deliver(artist_client, awarded["id"], png((1, 1, 1))).json()
    request_revision(client_api, first["id"])
    deliver(artist_client, awarded["id"], png((2, 2, 2)))
    response = accept_delivery(client_api, first["id"])
    assert response.status_code == 409 and response.json()["state"] == "revision_requested"
    assert Commission.objects.get().state == "delivered"


@pytest.mark.django_db
def test_offers_on_a_brief_past_its_deadline_are_409(artist_client, brief):
    Commission.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    response = offer(artist_client, brief["id"])
    assert_conflict(response, "open", code="deadline_passed")
    assert not Offer.objects.exists()


@pytest.mark.django_db
def test_a_second_pending_offer_by_the_same_artist_is_409_until_withdrawn(artist_client, brief):
    first = offer(artist_client, brief["id"]).json()
    assert offer(artist_client, brief["id"]).status_code == 409
    withdrawn = artist_client.post(f"/api/v1/commission-offers/{first['id']}/withdraw", {}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert offer(artist_client, brief["id"], price=4000).status_code == 201


@pytest.mark.django_db
def test_a_revision_request_gives_the_artist_at_least_the_minimum_window(client_api, artist_client, awarded, settings):
    settings.COMMISSION_REVISION_MIN_WINDOW = timedelta(days=3)
    delivery = deliver(artist_client, awarded["id"]).json()
    Commission.objects.update(due_at=timezone.now() + timedelta(hours=1))
    body = request_revision(client_api, delivery["id"]).json()
    commission = Commission.objects.get()
    assert commission.due_at >= timezone.now() + timedelta(days=3) - timedelta(minutes=1)
    assert body["deadline"] == awarded["deadline"]  # the brief's own deadline is kept as posted
    assert deliver(artist_client, awarded["id"]).status_code == 201
