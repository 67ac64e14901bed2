"""Payouts: the available ledger balance becomes a payout; never below zero, never twice."""

import threading
from collections import Counter

import pytest
from django.db import connection

from marketplace.subscriptions.models import LedgerEntry, Payout
from marketplace.subscriptions.selectors import ledger_balance
from marketplace.subscriptions.services import ledger_credit, payout_mark_failed, payout_request


@pytest.mark.django_db
def test_a_payout_takes_the_whole_balance_and_the_test_provider_settles_it(make_user, client_for):
    artist = make_user(role="artist")
    ledger_credit(user=artist, amount=1_800, currency="USD", reference="order:a")
    ledger_credit(user=artist, amount=700, currency="USD", reference="order:b")
    client = client_for(artist)
    response = client.post("/api/v1/payouts", {"currency": "usd"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amount"], body["currency"], body["state"]) == (2_500, "USD", "paid")
    assert ledger_balance(user=artist) == {"USD": 0}
    assert LedgerEntry.objects.get(reference=f"payout:{body['id']}").amount == -2_500
    again = client.post("/api/v1/payouts", {"currency": "USD"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "nothing_to_pay_out"
    assert client.get("/api/v1/payouts").json()["results"][0]["id"] == body["id"]
    assert client.get(f"/api/v1/payouts/{body['id']}").json()["state"] == "paid"


@pytest.mark.django_db
def test_no_payout_below_zero_bad_currency_or_of_another_users_payout(make_user, client_for):
    artist, other = make_user(role="artist"), make_user(role="artist")
    ledger_credit(user=artist, amount=500, currency="USD", reference="order:c")
    LedgerEntry.objects.create(user=artist, amount=-900, currency="USD", reference="order:c:refund")
    client = client_for(artist)
    negative = client.post("/api/v1/payouts", {"currency": "USD"}, format="json")
    assert negative.status_code == 409 and negative.json()["balance"] == -400
    assert client.post("/api/v1/payouts", {"currency": "12"}, format="json").status_code == 400
    assert client.post("/api/v1/payouts", {"currency": "USD", "amount": 1}, format="json").status_code == 400
    ledger_credit(user=other, amount=300, currency="EUR", reference="order:d")
    theirs = client_for(other).post("/api/v1/payouts", {"currency": "EUR"}, format="json").json()
    assert client.get(f"/api/v1/payouts/{theirs['id']}").status_code == 404
    assert not Payout.objects.filter(user=artist).exists()


@pytest.mark.django_db
def test_a_pending_payout_blocks_another_and_a_failed_one_credits_back(make_user, settings):
    artist = make_user(role="artist")
    ledger_credit(user=artist, amount=4_000, currency="GBP", reference="order:e")
    settings.PAYMENT_PROVIDER = "stripe"  # no instant payouts: staff settle them
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    payout = payout_request(user=artist, currency="GBP")
    assert payout.state == "pending" and ledger_balance(user=artist) == {"GBP": 0}
    ledger_credit(user=artist, amount=100, currency="GBP", reference="order:f")
    from core.errors import Conflict

    with pytest.raises(Conflict) as refused:
        payout_request(user=artist, currency="GBP")
    assert refused.value.code == "payout_pending"
    failed = payout_mark_failed(payout=payout, actor=make_user(role="staff"), reason="bank refused")
    assert failed.state == "failed" and ledger_balance(user=artist) == {"GBP": 4_100}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_payout_requests_pay_the_balance_out_exactly_once(make_user, client_for):
    artist = make_user(role="artist")
    ledger_credit(user=artist, amount=12_345, currency="USD", reference="order:g")
    clients = [client_for(artist) for _ in range(12)]
    start = threading.Barrier(len(clients))
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def attempt(client) -> None:
        try:
            start.wait()
            response = client.post("/api/v1/payouts", {"currency": "USD"}, format="json")
            with lock:
                outcomes.append((response.status_code, response.json().get("state") or response.json()["code"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally = Counter(outcomes)
    assert tally[(201, "paid")] == 1, tally
    assert tally[(409, "nothing_to_pay_out")] + tally[(409, "payout_pending")] == len(clients) - 1, tally
    assert list(Payout.objects.values_list("amount", flat=True)) == [12_345]
    assert ledger_balance(user=artist) == {"USD": 0}
