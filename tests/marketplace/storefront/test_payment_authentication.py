"""The bank's step on the pages (3-D Secure): a card that needs authentication sends the buyer to confirm it —
the test provider's stand-in page, or Stripe's redirect — and brings them back to the order or commission."""

import pytest
from django.test import Client

from marketplace.gallery.models import Order
from marketplace.subscriptions.models import Payment
from tests.marketplace.subscriptions.helpers import BANK_URL

HTML = {"HTTP_ACCEPT": "text/html"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def listing(make_user, publish):
    artist = make_user(role="artist", display_name="Ada")
    return publish(artist, 4, title="Tide pools", price=1_500).listings.get()


def buy(client: Client, listing, card: str):
    return client.post(f"/checkout/{listing.public_id}", {"listing": str(listing.public_id), "payment_method": card})


@pytest.mark.django_db
def test_a_card_that_needs_authentication_goes_to_the_bank_step_and_back_to_a_receipt(
    make_user, listing, django_capture_on_commit_callbacks
):
    client = signed_in(make_user())
    answer = buy(client, listing, "tok_requires_action")
    payment = Payment.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/payments/{payment.public_id}/authenticate"
    assert payment.state == "requires_action" and Order.objects.get().state == "pending"

    page = client.get(answer["Location"], **HTML)
    assert page.status_code == 200 and b"15.00 USD" in page.content and b"Authenticate" in page.content
    order = Order.objects.get()
    # coming back to the order before confirming offers the same step
    assert f"/payments/{payment.public_id}/authenticate".encode() in client.get(f"/orders/{order.public_id}").content

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(answer["Location"], {"outcome": "authenticate"})
    assert done.status_code == 302 and done["Location"] == f"/orders/{order.public_id}"
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (payment.state, order.state) == ("succeeded", "fulfilled")
    receipt = client.get(done["Location"], **HTML)
    assert b"Receipt" in receipt.content and b"Payment confirmed." in receipt.content
    # the step is over: the page sends the buyer back instead of offering it again
    assert client.get(answer["Location"])["Location"] == f"/orders/{order.public_id}"


@pytest.mark.django_db
def test_failed_authentication_charges_nothing_and_the_same_order_can_be_paid_with_another_card(
    make_user, listing, django_capture_on_commit_callbacks
):
    client = signed_in(make_user())
    step = buy(client, listing, "tok_requires_action")["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        failed = client.post(step, {"outcome": "fail"}, follow=True)
    order = Order.objects.get()
    assert order.state == "pending" and Payment.objects.get().state == "failed"
    assert b"failed 3-D Secure" in failed.content and b"Pay 15.00 USD" in failed.content

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/orders/{order.public_id}", {"payment_method": "tok_visa"})
    order.refresh_from_db()
    assert order.state == "fulfilled" and Order.objects.count() == 1


@pytest.mark.django_db
def test_a_stranger_cannot_see_or_complete_someone_elses_authentication(make_user, listing):
    buy(signed_in(make_user()), listing, "tok_requires_action")
    payment = Payment.objects.get()
    stranger = signed_in(make_user())
    url = f"/payments/{payment.public_id}/authenticate"
    assert stranger.get(url, **HTML).status_code == 404
    assert stranger.post(url, {"outcome": "authenticate"}, **HTML).status_code == 404
    payment.refresh_from_db()
    assert payment.state == "requires_action" and Order.objects.get().state == "pending"


@pytest.mark.django_db
def test_a_bad_outcome_is_a_400_and_changes_nothing(make_user, listing):
    client = signed_in(make_user())
    step = buy(client, listing, "tok_requires_action")["Location"]
    assert client.post(step, {"outcome": "maybe"}, **HTML).status_code == 400
    assert Payment.objects.get().state == "requires_action"


@pytest.mark.django_db
def test_with_stripe_the_page_charge_allows_redirects_and_sends_the_buyer_to_the_bank(make_user, listing, fake_stripe):
    client = signed_in(make_user())
    step = buy(client, listing, "pm_card_threeDSecure2Required")["Location"]
    order = Order.objects.get()
    sent = fake_stripe.requests[-1]["params"]
    assert sent["return_url"] == f"http://testserver/orders/{order.public_id}"
    assert "automatic_payment_methods[allow_redirects]" not in sent
    payment = Payment.objects.get()
    assert payment.action_url.startswith(BANK_URL)
    bank = client.get(step)
    assert bank.status_code == 302 and bank["Location"] == payment.action_url
    # nothing can be "completed by hand" for a real provider
    client.post(step, {"outcome": "authenticate"})
    payment.refresh_from_db()
    assert payment.state == "requires_action"
