"""Finding 12.7: exclusive listings held hostage by unpaid orders.

Before the fix an unpaid order reserved an exclusive licence for 30 minutes and could be placed again at once
from another account, so a few free accounts kept a work off sale for ever. Now an order reserves nothing: the
licence is taken by the first payment that succeeds, and a payment only holds the listing while its charge is
in flight (a short hold, one per buyer at a time, released by a decline or any answer from the provider). Each
buyer may keep only a few unpaid orders open.
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from marketplace.gallery.models import LicenceGrant, Order
from marketplace.subscriptions.models import Payment
from marketplace.subscriptions.services import payment_complete_test_action
from tests.marketplace.gallery.helpers import buy


@pytest.fixture
def exclusive(artist, on_pro_plan, make_artwork, make_listing):
    on_pro_plan(artist)
    artwork = make_artwork(71)
    return make_listing(artwork["id"], licence_type="exclusive", price=50_000)


def pay(client, order_id: str, method: str = "tok_visa"):
    return client.post(f"/api/v1/orders/{order_id}/pay", {"payment_method": method}, format="json")


@pytest.mark.django_db
def test_unpaid_orders_from_many_accounts_do_not_keep_an_exclusive_off_sale(client_for, make_user, exclusive):
    squatters = [client_for(make_user()) for _ in range(5)]
    for squatter in squatters:
        placed = buy(squatter, exclusive["id"], payment_method=None)
        assert placed.status_code == 201, placed.json()
    buyer = make_user()
    bought = buy(client_for(buyer), exclusive["id"])
    assert bought.status_code == 201, bought.json()
    assert bought.json()["state"] == "fulfilled"
    assert LicenceGrant.objects.get().holder == buyer
    # the squatters' orders were cancelled by the sale and can no longer be paid
    assert set(Order.objects.exclude(buyer=buyer).values_list("state", flat=True)) == {"cancelled"}
    late = pay(squatters[0], Order.objects.exclude(buyer=buyer).first().public_id)
    assert late.status_code == 409 and late.json()["state"] == "cancelled"


@pytest.mark.django_db
def test_a_declined_card_releases_the_exclusive_at_once(client_for, make_user, exclusive):
    declined = buy(client_for(make_user()), exclusive["id"], payment_method="tok_card_declined")
    assert declined.status_code == 402
    assert Order.objects.get(public_id=declined.json()["order"]).hold_expires_at is None
    bought = buy(client_for(make_user()), exclusive["id"])
    assert bought.status_code == 201 and bought.json()["state"] == "fulfilled"


@pytest.mark.django_db
def test_a_payment_awaiting_3ds_holds_nothing_and_loses_to_a_completed_one(
    client_for, make_user, exclusive, run_tasks, django_capture_on_commit_callbacks
):
    waiting = buy(client_for(make_user()), exclusive["id"], payment_method="tok_requires_action").json()
    assert waiting["state"] == "pending" and waiting["payment"]["state"] == "requires_action"
    assert Order.objects.get(public_id=waiting["id"]).hold_expires_at is None
    bought = buy(client_for(make_user()), exclusive["id"])
    assert bought.status_code == 201 and bought.json()["state"] == "fulfilled"
    payment = Payment.objects.get(public_id=waiting["payment"]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        payment_complete_test_action(payment=payment)
    run_tasks()
    payment.refresh_from_db()
    assert payment.state == "refunded"  # the late payer gets their money back, not a second exclusive
    assert Order.objects.get(public_id=waiting["id"]).state == "cancelled"
    assert LicenceGrant.objects.count() == 1


@pytest.mark.django_db
def test_a_charge_in_flight_holds_the_listing_briefly_then_the_hold_lapses(client_for, make_user, exclusive, settings):
    """A hold left by a crashed request (the charge never answered) blocks other payers only until it lapses."""
    first = client_for(make_user())
    order = buy(first, exclusive["id"], payment_method=None).json()
    Order.objects.filter(public_id=order["id"]).update(hold_expires_at=timezone.now() + timedelta(seconds=60))
    other = client_for(make_user())
    blocked = buy(other, exclusive["id"])
    assert blocked.status_code == 409 and blocked.json()["code"] == "exclusive_reserved"
    assert 0 < blocked.json()["retry_after_seconds"] <= 60 and blocked["Retry-After"]
    Order.objects.filter(public_id=order["id"]).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    retried = pay(other, blocked.json()["order"])
    assert retried.status_code == 200 and retried.json()["state"] == "fulfilled"


@pytest.mark.django_db
def test_a_buyer_holds_one_exclusive_at_a_time(client_for, make_user, artist, make_artwork, make_listing, on_pro_plan):
    on_pro_plan(artist)
    listings = [make_listing(make_artwork(72 + n)["id"], licence_type="exclusive", price=9_000) for n in range(2)]
    buyer = client_for(make_user())
    orders = [buy(buyer, listing["id"], payment_method=None).json() for listing in listings]
    Order.objects.filter(public_id=orders[0]["id"]).update(hold_expires_at=timezone.now() + timedelta(seconds=60))
    second = pay(buyer, orders[1]["id"])
    assert second.status_code == 409 and second.json()["code"] == "checkout_in_progress"
    assert not Payment.objects.filter(purpose="order").exists()


@pytest.mark.django_db
def test_a_buyer_keeps_only_a_few_unpaid_orders_open(client_for, make_user, make_artwork, make_listing, settings):
    settings.GALLERY_MAX_PENDING_ORDERS = 3
    listings = [make_listing(make_artwork(80 + n)["id"], price=500) for n in range(4)]
    buyer = client_for(make_user())
    for listing in listings[:3]:
        assert buy(buyer, listing["id"], payment_method=None).status_code == 201
    refused = buy(buyer, listings[3]["id"], payment_method=None)
    assert refused.status_code == 409 and refused.json()["code"] == "too_many_open_orders"
    assert Order.objects.count() == 3
    # placing again on a listing already ordered returns that order, it does not count twice
    again = buy(buyer, listings[0]["id"], payment_method=None)
    assert again.status_code == 200 and Order.objects.count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_buyers_paying_for_one_exclusive_at_once_are_charged_once(client_for, make_user, exclusive):
    buyers = [client_for(make_user(email=f"payer{n}@example.com")) for n in range(20)]
    orders = [buy(client, exclusive["id"], payment_method=None).json()["id"] for client in buyers]
    start = threading.Barrier(len(buyers))
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def attempt(client, order_id) -> None:
        try:
            start.wait()
            response = pay(client, order_id)
            body = response.json()
            with lock:
                outcomes.append((response.status_code, body.get("state") or body.get("code")))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(buyers, orders, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally = Counter(outcomes)
    assert tally[(200, "fulfilled")] == 1, tally
    assert {code for status, code in tally if status == 409} <= {"exclusive_reserved", "listing_closed"}, tally
    assert sum(n for (status, _), n in tally.items() if status == 409) == len(buyers) - 1, tally
    assert Payment.objects.filter(purpose="order").count() == 1  # nobody else was charged and refunded
    assert Order.objects.filter(state="fulfilled").count() == 1
