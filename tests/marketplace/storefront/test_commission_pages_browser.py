"""A client and an artist complete a commission in Debian's Chromium, each in their own browser session: brief
with a reference image, offer, a declined card then a good one, a delivery, a revision, a second delivery,
acceptance. Every page is checked with axe-core and saved at desktop and phone widths."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.commissions.models import Commission, CommissionState
from tests.marketplace.commissions.helpers import png
from tests.marketplace.storefront.browser import DESKTOP, axe_check, chromium, screenshot, sign_in


def local(when) -> str:
    return when.strftime("%Y-%m-%dT%H:%M")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_client_and_an_artist_complete_a_commission(live_server, make_user, settings, tmp_path):
    settings.MEDIA_ROOT, settings.GENERATION_RUNS_ROOT = str(tmp_path / "media"), str(tmp_path / "runs")
    client_user = make_user(role="buyer", email="client@example.com", display_name="Cleo Client")
    artist = make_user(role="artist", email="artist@example.com", display_name="Arturo Artist")
    reference, first, second = (tmp_path / name for name in ("reference.png", "fox-1.png", "fox-2.png"))
    reference.write_bytes(png(color=(200, 30, 90), size=(64, 48)))
    first.write_bytes(png(color=(220, 90, 30), size=(64, 64)))
    second.write_bytes(png(color=(240, 240, 250), size=(64, 64)))

    with chromium() as browser:
        as_client = browser.new_context(viewport=DESKTOP).new_page()
        as_artist = browser.new_context(viewport=DESKTOP).new_page()
        sign_in(as_client, live_server.url, client_user.email)
        sign_in(as_artist, live_server.url, artist.email)

        as_client.goto(f"{live_server.url}/commissions/new")
        axe_check(as_client)
        as_client.fill("#id_title", "A fox in the snow")
        as_client.fill("#id_description", "A red fox curled up in fresh snow, soft morning light.")
        as_client.fill("#id_style", "watercolour")
        as_client.fill("#id_budget", "lots")  # bad input first: re-rendered with the error, the rest kept
        as_client.fill("#id_deadline", local(timezone.now() + timedelta(days=10)))
        as_client.set_input_files("#id_references", str(reference))
        as_client.click("#brief-form button[type=submit]")
        as_client.wait_for_selector("#id_budget_errors")
        assert as_client.input_value("#id_description").startswith("A red fox curled up")
        axe_check(as_client)
        screenshot(as_client, "commission-new-error")
        as_client.fill("#id_budget", "60.00")
        as_client.set_input_files("#id_references", str(reference))  # a browser never re-sends a chosen file
        as_client.click("#brief-form button[type=submit]")
        as_client.wait_for_selector("#offers-heading")
        brief_url = as_client.url
        commission = Commission.objects.get()
        assert commission.budget == 6000 and commission.references.count() == 1
        # lazy images load after the page does: wait for them (a broken one never gets a width and times out)
        as_client.wait_for_function(
            "[...document.querySelectorAll('main img')].every(i => i.complete && i.naturalWidth > 0)", timeout=30_000
        )
        axe_check(as_client)
        screenshot(as_client, "commission-brief")

        as_artist.goto(f"{live_server.url}/commissions/briefs")
        axe_check(as_artist)
        screenshot(as_artist, "commission-briefs")
        as_artist.click("text=A fox in the snow")
        as_artist.fill("#id_price", "55.00")
        as_artist.fill("#id_delivery_by", local(timezone.now() + timedelta(days=5)))
        as_artist.fill("#id_revisions", "1")
        as_artist.fill("#id_message", "Happy to paint this.")
        axe_check(as_artist)
        as_artist.click("#offer-form button[type=submit]")
        as_artist.wait_for_selector(".offer")
        assert "55.00 USD" in as_artist.inner_text(".offer")

        as_client.goto(brief_url)
        assert "Arturo Artist" in as_client.inner_text(".offer")
        as_client.select_option(".accept-offer select", "tok_card_declined")
        as_client.click(".accept-offer button[type=submit]")
        as_client.wait_for_selector(".accept-offer .errorlist, .accept-offer .form-errors")
        assert "declined" in as_client.inner_text(".offer")
        axe_check(as_client)
        screenshot(as_client, "commission-declined")
        as_client.select_option(".accept-offer select", "tok_visa")
        as_client.click(".accept-offer button[type=submit]")
        as_client.wait_for_selector("#agreed-price")
        assert Commission.objects.get().state == CommissionState.AWARDED

        as_artist.goto(brief_url)
        as_artist.set_input_files("#id_images", str(first))
        as_artist.fill("#deliver-upload-form textarea", "First go")
        axe_check(as_artist)
        screenshot(as_artist, "commission-deliver")
        as_artist.click("#deliver-upload-form button[type=submit]")
        as_artist.wait_for_selector("#delivery-1")

        as_client.goto(brief_url)
        as_client.fill("#revision-form textarea", "A little more snow, please.")
        axe_check(as_client)
        screenshot(as_client, "commission-review")
        as_client.click("#revision-form button[type=submit]")
        as_client.wait_for_selector("#delivery-1 >> text=A little more snow")

        as_artist.goto(brief_url)
        as_artist.set_input_files("#id_images", str(second))
        as_artist.click("#deliver-upload-form button[type=submit]")
        as_artist.wait_for_selector("#delivery-2")

        as_client.goto(brief_url)
        assert as_client.locator("#revision-form").count() == 0  # the one included revision is used
        as_client.click("#accept-delivery-form button[type=submit]")
        as_client.wait_for_selector("h1 >> text=Completed")
        axe_check(as_client)
        screenshot(as_client, "commission-completed")
        assert Commission.objects.get().state == CommissionState.COMPLETED

        as_client.goto(f"{live_server.url}/commissions/")
        axe_check(as_client)
        screenshot(as_client, "commission-list")
