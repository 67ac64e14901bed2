"""Real concurrency on PostgreSQL: row locks, not luck."""

import threading
import time
from collections import Counter

import pytest
from django.db import connection

from marketplace.gallery import ports
from marketplace.gallery.models import Artwork, LicenceGrant, Order
from marketplace.subscriptions.models import Payment
from provenance.models import OwnershipEvent, ProvenanceRecord
from tests.marketplace.gallery.helpers import buy, upload
from tests.marketplace.gallery.test_publishing import near_copy

BUYERS = 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_buyers_of_one_exclusive_licence_make_exactly_one_paid_order(
    artist, on_pro_plan, make_artwork, make_listing, make_user, client_for
):
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
    assert {code for (status, code) in tally if status == 409} <= {
        "exclusive_unavailable",
        "exclusive_reserved",
        "listing_closed",
    }
    # unpaid orders reserve nothing (finding 12.7): the losers' orders are cancelled by the sale, not charged
    assert Order.objects.filter(state="fulfilled").count() == 1
    assert set(Order.objects.exclude(state="fulfilled").values_list("state", flat=True)) <= {"cancelled"}
    assert Payment.objects.filter(purpose="order").count() == 1
    assert LicenceGrant.objects.count() == 1
    assert OwnershipEvent.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_artists_publishing_near_identical_works_at_once_register_one(make_user, client_for, monkeypatch):
    """Each publish checks for near-duplicates, then registers. Without the registration lock both checks can
    run before either registration commits, and both pass; the check is slowed here to make that window wide."""
    check = ports.similar_records

    def slow_check(**kwargs):
        matches = check(**kwargs)
        time.sleep(0.5)
        return matches

    monkeypatch.setattr(ports, "similar_records", slow_check)
    artists = [client_for(make_user(role="artist")) for _ in range(2)]
    drafts = [upload(artists[0], 31).json(), upload(artists[1], raw=near_copy(31)).json()]
    start = threading.Barrier(2)
    outcomes: list[tuple[int, str]] = []

    def publish(client, draft) -> None:
        try:
            start.wait()
            response = client.post(f"/api/v1/artworks/{draft['id']}/publish")
            outcomes.append((response.status_code, response.json().get("state") or response.json().get("code")))
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=pair) for pair in zip(artists, drafts, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [(200, "published"), (409, "near_duplicate")], outcomes
    assert ProvenanceRecord.objects.count() == 1
    assert Artwork.objects.filter(state="published").count() == 1
