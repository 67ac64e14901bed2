import pytest

from core.errors import Conflict, InvalidInput
from marketplace.subscriptions import services
from marketplace.subscriptions.models import LedgerEntry
from marketplace.subscriptions.selectors import ledger_balance


@pytest.mark.django_db
def test_credit_is_idempotent_per_reference(artist):
    first = services.ledger_credit(user=artist, amount=1200, currency="usd", reference="order:1", memo="sale")
    again = services.ledger_credit(user=artist, amount=1200, currency="USD", reference="order:1", memo="sale")
    assert first.pk == again.pk and LedgerEntry.objects.count() == 1
    with pytest.raises(Conflict) as error:
        services.ledger_credit(user=artist, amount=999, currency="USD", reference="order:1")
    assert error.value.code == "ledger_reference_reused"
    assert ledger_balance(user=artist) == {"USD": 1200}


@pytest.mark.django_db
def test_balance_sums_credits_and_debits_per_currency(artist, make_user):
    services.ledger_credit(user=artist, amount=1200, currency="USD", reference="order:1")
    services.ledger_credit(user=artist, amount=800, currency="USD", reference="commission:1")
    services.ledger_credit(user=artist, amount=500, currency="EUR", reference="order:2")
    services.ledger_debit(user=artist, amount=1200, currency="USD", reference="order:1:refund")
    services.ledger_credit(user=make_user(role="artist"), amount=5, currency="USD", reference="order:1")
    assert ledger_balance(user=artist) == {"EUR": 500, "USD": 800}
    assert LedgerEntry.objects.get(reference="order:1:refund").amount == -1200


@pytest.mark.django_db
@pytest.mark.parametrize("kwargs", [{"amount": 0}, {"amount": -5}, {"currency": "US"}, {"reference": ""}])
def test_bad_ledger_input_is_400(artist, kwargs):
    with pytest.raises(InvalidInput):
        services.ledger_credit(**({"user": artist, "amount": 10, "currency": "USD", "reference": "r"} | kwargs))
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_ledger_api_shows_my_entries_and_balance_only(artist_client, artist, make_user):
    services.ledger_credit(user=artist, amount=1200, currency="USD", reference="order:1", memo="Print sale")
    services.ledger_credit(user=make_user(role="artist"), amount=99, currency="USD", reference="order:9")
    entries = artist_client.get("/api/v1/ledger").json()["results"]
    assert [(e["amount"], e["reference"], e["memo"]) for e in entries] == [(1200, "order:1", "Print sale")]
    assert artist_client.get("/api/v1/ledger/balance").json() == {"balances": {"USD": 1200}}
