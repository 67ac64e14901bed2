"""Buyer pages through the test client: checkout with a declined card, a retry on the same order, the receipt,
the library, the licence document and a fresh download link; the artist's sales page and a payout."""

import pytest
from django.test import Client

from marketplace.gallery.models import LicenceGrant, Order
from marketplace.subscriptions.models import Payout
from marketplace.subscriptions.selectors import ledger_balance

HTML = {"HTTP_ACCEPT": "text/html"}


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return client


@pytest.fixture
def sale(make_user, publish):
    artist = make_user(role="artist", display_name="Ada")
    artwork = publish(artist, 3, title="Harbour at dusk", price=2_000)
    return artist, artwork, artwork.listings.get()


@pytest.mark.django_db
def test_a_declined_card_then_a_good_one_on_the_same_order_gives_a_receipt_licence_and_download(make_user, sale):
    artist, artwork, listing = sale
    buyer = make_user(display_name="Bea")
    client = signed_in(buyer)
    page = client.get(f"/checkout/{listing.public_id}", **HTML)
    assert page.status_code == 200 and b"Personal licence" in page.content and b"20.00 USD" in page.content

    declined = client.post(
        f"/checkout/{listing.public_id}",
        {"listing": str(listing.public_id), "payment_method": "tok_card_declined"},
        follow=True,
    )
    order = Order.objects.get()
    assert declined.redirect_chain[-1][0] == f"/orders/{order.public_id}"
    assert b"Your card was declined." in declined.content and b"Pay 20.00 USD" in declined.content
    assert order.state == "pending"

    # the order page's retry pays the same order
    again = client.post(f"/orders/{order.public_id}", {"payment_method": "tok_visa"}, follow=True)
    order.refresh_from_db()
    assert order.state == "fulfilled" and Order.objects.count() == 1
    assert b"Receipt" in again.content and b"Licence document" in again.content

    grant = LicenceGrant.objects.get(order=order)
    library = client.get("/library/", **HTML)
    assert b"Harbour at dusk" in library.content and str(grant.public_id).encode() in library.content
    document = client.get(f"/library/licences/{grant.public_id}", **HTML).content.decode()
    for expected in (
        "Personal licence",
        "Ada",
        "Bea",
        artwork.content_sha256,
        "20.00 USD",
        str(order.public_id),
        "You may not",
    ):
        assert expected in document, expected
    link = client.post(f"/library/licences/{grant.public_id}/download")
    assert link.status_code == 302 and link["Location"].startswith("/api/v1/downloads/")
    assert client.get(link["Location"]).status_code == 200


@pytest.mark.django_db
def test_bad_checkout_input_rerenders_with_errors_and_keeps_the_choice(make_user, sale):
    _, _, listing = sale
    client = signed_in(make_user())
    response = client.post(
        f"/checkout/{listing.public_id}", {"listing": str(listing.public_id), "payment_method": "tok_bogus"}, **HTML
    )
    assert response.status_code == 400 and b"checked" in response.content
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_strangers_get_404_on_others_orders_and_licences(make_user, sale):
    _, _, listing = sale
    buyer = signed_in(make_user())
    buyer.post(f"/checkout/{listing.public_id}", {"listing": str(listing.public_id), "payment_method": "tok_visa"})
    order, grant = Order.objects.get(), LicenceGrant.objects.get()
    stranger = signed_in(make_user())
    for url in (f"/orders/{order.public_id}", f"/library/licences/{grant.public_id}"):
        assert stranger.get(url, **HTML).status_code == 404
    assert stranger.post(f"/orders/{order.public_id}", {"payment_method": "tok_visa"}, **HTML).status_code == 404
    assert stranger.post(f"/orders/{order.public_id}/cancel", **HTML).status_code == 404
    assert stranger.post(f"/library/licences/{grant.public_id}/download", **HTML).status_code == 404
    assert Client().get("/library/", **HTML).status_code == 302  # signed out: to sign in


@pytest.mark.django_db
def test_the_artist_sees_the_sale_and_requests_a_payout(make_user, sale):
    artist, _, listing = sale
    signed_in(make_user()).post(
        f"/checkout/{listing.public_id}", {"listing": str(listing.public_id), "payment_method": "tok_visa"}
    )
    client = signed_in(artist)
    page = client.get("/studio/sales", **HTML)
    assert b"Harbour at dusk" in page.content and b"18.00 USD" in page.content
    assert b"Request a payout of 18.00 USD" in page.content
    done = client.post("/studio/sales/payout", {"currency": "USD"}, follow=True)
    assert b"Payout of 18.00 USD requested: paid." in done.content
    assert Payout.objects.get().amount == 1_800 and ledger_balance(user=artist) == {"USD": 0}
    again = client.post("/studio/sales/payout", {"currency": "USD"}, follow=True)
    assert b"nothing to pay out" in again.content and Payout.objects.count() == 1
