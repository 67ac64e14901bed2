"""Public journeys in Debian's Chromium: a visitor browses, filters (with and without JavaScript) and opens an
artwork; anyone verifies a downloaded file and a resized copy; a person signs up and in; staff reach the
dashboard from the header. Every public page is checked with axe-core (no serious or critical violation) and
saved at desktop and phone widths under var/screenshots/."""

import io
import re
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.marketplace.storefront.browser import (
    DESKTOP,
    PHONE,
    axe_check,
    chromium,
    confirm_sign_up,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(settings, tmp_path, make_user, publish):
    settings.GALLERY_BROWSE_CACHE_SECONDS = 0
    mira = make_user(role="artist", email="mira@example.com", display_name="Mira Okafor")
    mira.bio = "I train small GANs on my own harbour sketches."
    mira.save()
    theo = make_user(role="artist", email="theo@example.com", display_name="Theo Lind")
    works = [
        publish(
            mira,
            seed,
            title=title,
            price=price,
            tags=tags,
            style=style,
            description=f"{title}, generated from my sketchbook model.",
        )
        for seed, title, price, tags, style in [
            (1, "Harbour at Dusk", 2500, ("sea", "dusk"), "pixel"),
            (2, "Lighthouse Night", 4000, ("sea", "night"), "pixel"),
            (3, "Red Cliffs", 1200, ("land",), "oil"),
            (4, "Quiet Bay", 900, ("sea",), "pixel"),
        ]
    ]
    works += [
        publish(theo, seed, title=f"Field Study {seed}", price=700 + seed * 100, tags=("land",), style="ink")
        for seed in range(5, 11)
    ]
    return {"mira": mira, "theo": theo, "works": works}


def titles(page) -> list[str]:
    return page.locator("#results .card-title").all_inner_texts()


def test_a_visitor_browses_filters_and_opens_an_artwork(live_server, catalogue):
    with chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        page.goto(f"{live_server.url}/")
        assert page.locator("h1").inner_text().startswith("Original AI art")
        axe_check(page)
        screenshot(page, "home")

        page.get_by_role("link", name="Gallery", exact=True).first.click()
        page.wait_for_url("**/gallery")
        assert len(titles(page)) == 10
        axe_check(page)
        screenshot(page, "gallery")

        page.evaluate("window.__notReloaded = true")
        page.fill("#f-style", "pixel")
        page.check("input[name=licence][value=personal]")
        page.select_option("#f-sort", "price")
        page.click("#filters button[type=submit]")
        # filters changed one by one may each send a request; wait for the answer to the last one (sorted by price)
        expected = ["Quiet Bay", "Harbour at Dusk", "Lighthouse Night"]
        page.wait_for_function(
            "(want) => JSON.stringify([...document.querySelectorAll('#results .card-title')]"
            ".map(e => e.innerText)) === JSON.stringify(want)",
            arg=expected,
            timeout=15000,
        )
        assert titles(page) == expected
        assert page.evaluate("window.__notReloaded === true")  # htmx swapped the results in place
        assert "style=pixel" in page.url and "sort=price" in page.url  # and the address says so
        screenshot(page, "gallery-filtered")

        page.goto(f"{live_server.url}/gallery?q=harbour")
        assert titles(page) == ["Harbour at Dusk"]
        page.click("text=Harbour at Dusk")
        page.wait_for_url("**/artworks/*")
        assert page.locator("h1").inner_text() == "Harbour at Dusk"
        assert "25.00 USD" in page.locator("#licences-heading + .licence").inner_text()
        page.click("summary:has-text('What you may and may not do')")
        assert page.locator("text=Any commercial use").is_visible()
        assert page.locator("#provenance .badge").inner_text() == "Registered"
        image = page.locator("img.preview-large")
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        axe_check(page)
        screenshot(page, "artwork")

        page.click("p.lead >> text=Mira Okafor")
        page.wait_for_url("**/artists/*")
        assert "I train small GANs" in page.inner_text("main")
        assert page.locator("main .card").count() == 4
        axe_check(page)
        screenshot(page, "artist")


def test_the_gallery_filters_without_javascript(live_server, catalogue):
    with chromium() as browser:
        context = browser.new_context(java_script_enabled=False, viewport=PHONE)
        page = context.new_page()
        page.goto(f"{live_server.url}/gallery")
        page.fill("#f-tag", "land")
        page.select_option("#f-sort", "-price")
        page.click("#filters button[type=submit]")
        page.wait_for_url("**/gallery?*")
        assert titles(page)[:2] == ["Field Study 10", "Field Study 9"] and titles(page)[-1] == "Red Cliffs"
        assert page.locator("#results .card").count() == 7
        screenshot(page, "gallery-nojs", widths=(PHONE,))


def _png_of(raw: bytes, size: int | None = None, fmt: str = "PNG") -> bytes:
    image = Image.open(io.BytesIO(raw)).convert("RGB")
    if size:
        image = image.resize((size, size))
    out = io.BytesIO()
    image.save(out, format=fmt, quality=90)
    return out.getvalue()


def test_anyone_verifies_a_downloaded_file_and_a_resized_copy(live_server, catalogue, client_for, tmp_path, settings):
    settings.CHAIN_RPC_URL = "http://127.0.0.1:9"  # no chain in this test: the page says the check is unavailable
    work = catalogue["works"][0]
    api = client_for(catalogue["mira"])  # the artist downloads their own original through a signed link
    link = api.post(f"/api/v1/artworks/{work.public_id}/download-url").json()["url"]
    with chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        parts = urlsplit(link)  # (the API client's host is the test client's; the browser's is the live server)
        downloaded = page.request.get(f"{live_server.url}{parts.path}?{parts.query}".rstrip("?"))
        assert downloaded.ok
        original = tmp_path / "downloaded.png"
        original.write_bytes(downloaded.body())
        copy = tmp_path / "resized.jpg"
        copy.write_bytes(_png_of(downloaded.body(), size=64, fmt="JPEG"))

        page.goto(f"{live_server.url}/verify")
        axe_check(page)
        page.set_input_files("#id_file", str(original))
        page.click("main form button[type=submit]")
        page.wait_for_selector("#result-heading")
        assert "Exact match" in page.inner_text("#result-heading")
        assert work.content_sha256 in page.inner_text("#result")
        assert page.locator("#result a[href*='/artworks/']").count() >= 1
        axe_check(page)
        screenshot(page, "verify-exact")

        page.goto(f"{live_server.url}/verify")
        page.set_input_files("#id_file", str(copy))
        page.click("main form button[type=submit]")
        page.wait_for_selector("#result-heading")
        assert "Looks like a registered work" in page.inner_text("#result-heading")
        assert re.search(r"distance \d+", page.inner_text("#perceptual"))
        page.click("#perceptual a:has-text('the artwork')")
        page.wait_for_url(f"**/artworks/{work.public_id}")
        screenshot(page, "verify-perceptual-then-artwork", widths=(DESKTOP,))


def test_sign_up_sign_in_and_account_pages_are_accessible(live_server, make_user):
    with chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        page.goto(f"{live_server.url}/signup")
        page.fill("#id_email", "bad-address")
        page.fill("#id_password", "short")
        page.click("main button[type=submit]")
        assert page.locator(".errorlist").count() >= 1 and page.input_value("#id_email") == "bad-address"
        axe_check(page)
        screenshot(page, "signup-errors")
        page.fill("#id_email", "nia@example.com")
        page.fill("#id_display_name", "Nia")
        page.fill("#id_password", "correct-horse-battery-staple")
        page.check("input[name=role][value=buyer]")
        page.click("main button[type=submit]")
        confirm_sign_up(page, live_server.url)
        page.wait_for_url(f"{live_server.url}/")
        assert page.locator("details.menu summary").inner_text().strip() == "Nia"
        page.click("details.menu summary")
        page.click("text=Sign out")
        page.wait_for_url(f"{live_server.url}/")
        assert page.locator("text=Sign in").first.is_visible()
        for path, name in (("/login", "login"), ("/password-reset", "password-reset"), ("/no-such-page", "404")):
            page.goto(f"{live_server.url}{path}")
            axe_check(page)
            screenshot(page, name)
        assert page.locator("h1").inner_text() == "Page not found"


def test_staff_open_the_dashboard_from_the_header(live_server, make_user):
    staff = make_user(role="staff", email="staff@example.com")
    with chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        sign_in(page, live_server.url, staff.email)
        page.click("nav.site-nav >> text=Dashboard")
        page.wait_for_selector("#dashboard svg.chart", timeout=30_000)
        assert page.locator("#dashboard svg.chart").count() == 4
        screenshot(page, "staff-dashboard", widths=(DESKTOP,))
