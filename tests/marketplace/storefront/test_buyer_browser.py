"""A buyer signs up, buys with a declining card then one that asks for 3-D Secure on the same order (the
bank's step, then the receipt), downloads the original and opens the licence document; the artist sees the
sale and requests a payout — in Debian's Chromium, each page checked with axe-core and saved at desktop and
phone widths."""

import hashlib
from pathlib import Path

import pytest

from marketplace.gallery.models import Order
from marketplace.subscriptions.models import Payout
from provenance.credentials.c2pa_manifests import strip_manifest
from tests.helpers import PASSWORD
from tests.marketplace.storefront.browser import (
    DESKTOP,
    axe_check,
    chromium,
    confirm_sign_up,
    screenshot,
    sign_in,
)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_buyer_buys_after_a_decline_downloads_and_the_artist_is_paid_out(live_server, make_user, publish):
    artist = make_user(role="artist", email="artist@example.com", display_name="Ada Artist")
    artwork = publish(artist, 5, title="Harbour at dusk", price=2_000)
    listing = artwork.listings.get()

    with chromium() as browser:
        page = browser.new_context(viewport=DESKTOP, accept_downloads=True).new_page()
        page.goto(f"{live_server.url}/signup")
        page.fill("#id_email", "bea@example.com")
        page.fill("#id_display_name", "Bea Buyer")
        page.fill("#id_password", PASSWORD)
        page.check("input[name=role][value=buyer]")
        page.click("main form button[type=submit]")
        confirm_sign_up(page, live_server.url)
        page.wait_for_url(f"{live_server.url}/")

        page.goto(f"{live_server.url}/checkout/{listing.public_id}")
        axe_check(page)
        screenshot(page, "buyer-checkout")
        page.select_option("#id_payment_method", "tok_card_declined")
        page.click("main form button[type=submit]")
        page.wait_for_selector(".messages .error")
        assert "Your card was declined." in page.inner_text(".messages")
        axe_check(page)
        screenshot(page, "buyer-order-declined")
        # the retry uses a card whose bank asks for 3-D Secure: the bank's step, then back to the order
        page.select_option("#id_payment_method", "tok_requires_action")
        page.click("main form.stack button[type=submit]")
        page.wait_for_url("**/authenticate")
        assert "20.00 USD" in page.inner_text("main")
        axe_check(page)
        screenshot(page, "buyer-bank-step")
        page.click("button[value=authenticate]")
        page.wait_for_selector("text=Receipt")
        order = Order.objects.get()
        assert order.state == "fulfilled" and page.url.endswith(f"/orders/{order.public_id}")
        axe_check(page)
        screenshot(page, "buyer-receipt")

        page.goto(f"{live_server.url}/library/")
        axe_check(page)
        screenshot(page, "buyer-library")
        with page.expect_download() as download:
            page.click("text=Download the original")
        saved = download.value.path()
        delivered = Path(saved).read_bytes()  # the original with its Content Credentials embedded
        unsigned = strip_manifest(delivered)
        assert unsigned is not None and hashlib.sha256(unsigned).hexdigest() == artwork.content_sha256
        page.click("text=Licence document")
        assert artwork.content_sha256 in page.inner_text("main")
        assert "Ada Artist" in page.inner_text("main") and "Bea Buyer" in page.inner_text("main")
        axe_check(page)
        screenshot(page, "buyer-licence")

        studio = browser.new_context(viewport=DESKTOP).new_page()
        sign_in(studio, live_server.url, artist.email)
        studio.goto(f"{live_server.url}/studio/sales")
        assert "Harbour at dusk" in studio.inner_text("main")
        axe_check(studio)
        screenshot(studio, "studio-sales")
        studio.click("text=Request a payout of 18.00 USD")
        studio.wait_for_selector(".messages .success")
        assert Payout.objects.get().state == "paid"
        axe_check(studio)
        screenshot(studio, "studio-sales-paid-out")
