"""The site's static files: one stylesheet and the vendored htmx, served by WhiteNoise without a CDN."""

import json

import pytest

from tests.helpers import REPO

VENDORED = REPO / "marketplace" / "storefront" / "static" / "storefront" / "vendor"


def test_vendored_htmx_is_the_pinned_npm_release():
    pinned = json.loads((REPO / "package.json").read_text())["dependencies"]["htmx.org"]
    vendored = VENDORED / f"htmx-{pinned}.min.js"
    assert vendored.exists(), f"copy node_modules/htmx.org/dist/htmx.min.js to {vendored} (and its LICENSE)"
    assert (VENDORED / f"htmx-{pinned}.LICENSE.txt").exists()
    installed = REPO / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
    if installed.exists():
        assert vendored.read_bytes() == installed.read_bytes()
    assert [p.name for p in VENDORED.glob("htmx-*.min.js")] == [vendored.name]


@pytest.mark.django_db
def test_pages_load_the_one_stylesheet_and_htmx_from_our_own_static_files(client):
    html = client.get("/").content.decode()
    assert html.count('rel="stylesheet"') == 1 and "/static/storefront/site.css" in html
    assert "/static/storefront/vendor/htmx-" in html and "http" not in html.split("<script", 1)[1].split(">")[0]
    assert "<style" not in html
    css = client.get("/static/storefront/site.css")
    assert css.status_code == 200 and b":focus-visible" in b"".join(css.streaming_content)
