"""Races on PostgreSQL with real threads: row locks decide, exactly one request wins."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from marketplace.commissions.models import Commission, Offer
from marketplace.subscriptions.models import Payment
from tests.marketplace.commissions.helpers import offer, post_brief


def bearer(user) -> APIClient:
    from marketplace.accounts.services import token_issue

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).secret}")
    return client


def race(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_offers_accepted_at_once_exactly_one_wins(make_user):
    client, first_artist, second_artist = make_user(role="buyer"), make_user(role="artist"), make_user(role="artist")
    brief = post_brief(bearer(client)).json()
    first = offer(bearer(first_artist), brief["id"], price=4000).json()
    second = offer(bearer(second_artist), brief["id"], price=4100).json()
    clients = [bearer(client), bearer(client)]

    responses = race(
        *(
            lambda api=api, sent=sent: api.post(
                f"/api/v1/commission-offers/{sent['id']}/accept", {"payment_method": "tok_visa"}, format="json"
            )
            for api, sent in zip(clients, (first, second), strict=True)
        )
    )

    assert sorted(response.status_code for response in responses) == [200, 409]
    loser = next(response for response in responses if response.status_code == 409)
    assert loser.json()["state"] in ("payment_pending", "awarded")
    commission = Commission.objects.get()
    winner = Offer.objects.get(state="accepted")
    assert commission.state == "awarded" and commission.accepted_offer == winner
    assert commission.artist == winner.artist and commission.price == winner.price
    assert Offer.objects.filter(state="declined").count() == 1
    payment = Payment.objects.get()
    assert payment.amount == winner.price and payment.state == "succeeded"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_cancel_racing_a_delivery_leaves_one_consistent_outcome(make_user):
    from tests.marketplace.commissions.helpers import accept, deliver

    client, artist = make_user(role="buyer"), make_user(role="artist")
    brief = post_brief(bearer(client)).json()
    accept(bearer(client), offer(bearer(artist), brief["id"]).json()["id"])
    client_api, artist_api = bearer(client), bearer(artist)

    cancelled, delivered = race(
        lambda: client_api.post(f"/api/v1/commissions/{brief['id']}/cancel", {}, format="json"),
        lambda: deliver(artist_api, brief["id"]),
    )

    commission = Commission.objects.get()
    payment = Payment.objects.get()
    if cancelled.status_code == 200:
        assert delivered.status_code == 409 and commission.state == "cancelled" and payment.state == "refunded"
        assert not commission.deliveries.exists()
    else:
        assert cancelled.status_code == 409 and delivered.status_code == 201
        assert commission.state == "delivered" and payment.state == "succeeded"
