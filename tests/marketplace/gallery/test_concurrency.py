"""Real concurrency on PostgreSQL: row locks, not luck."""

import threading
from collections import Counter

import pytest
from django.db import connection

from marketplace.gallery.models import LicenceGrant, Order
from marketplace.subscriptions.models import Payment
from provenance.models import OwnershipEvent
from tests.marketplace.gallery.conftest import buy

BUYERS = 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_buyers_of_one_exclusive_licence_make_exactly_one_paid_order(
        artist, on_pro_plan, make_artwork, make_listing, make_user, client_for):
    on_pro_plan(artist)
    artwork = make_artwork(90)
    listing = make_listing(artwork["id"], licence_type="exclusive", price=250_000)
    clients = [client_for(make_user(email=f"buyer{n}@example.com")) for n in range(BUYERS)]
    start = threading.Barrier(BUYERS)
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def attempt(client) -> None:
        try:
            start.wait()
            response = buy(client, listing["id"])
            body = response.json()
            with lock:
                outcomes.append((response.status_code, body.get("state") or body.get("code")))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    tally = Counter(outcomes)
    assert tally[(201, "fulfilled")] == 1, tally
    assert sum(count for (status, _), count in tally.items() if status == 409) == BUYERS - 1, tally
    assert {code for (status, code) in tally if status == 409} <= {"exclusive_unavailable", "listing_closed"}
    assert Order.objects.count() == 1 and Order.objects.get().state == "fulfilled"
    assert Payment.objects.filter(purpose="order").count() == 1
    assert LicenceGrant.objects.count() == 1
    assert OwnershipEvent.objects.count() == 1
