"""The verify page (a file, a resized copy, a hash: the verify API's answer shown for a person, with its
limits and throttle) and errors that fit who asked (HTML pages for browsers, problem+json for the API)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import path
from PIL import Image

from config.urls import urlpatterns as site_urls

pytestmark = pytest.mark.django_db
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def registered(artist, publish, settings):
    settings.CHAIN_RPC_URL = "http://127.0.0.1:9"  # no chain here: the check says so, the page still answers
    artwork = publish(artist, 5, title="Lighthouse")
    with artwork.original.open("rb") as handle:
        return artwork, handle.read()


def resized(raw: bytes, size: int) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(raw)).convert("RGB").resize((size, size)).save(out, format="JPEG", quality=85)
    return out.getvalue()


def test_verify_a_file_shows_the_exact_match_record_and_owner(client, registered):
    artwork, raw = registered
    response = client.post("/verify", {"file": SimpleUploadedFile("mine.png", raw)})
    html = response.content.decode()
    assert response.status_code == 200 and "Exact match" in html
    assert artwork.content_sha256 in html and f'href="/artworks/{artwork.public_id}"' in html
    assert "Chain unavailable" in html or "Not anchored yet" in html
    assert "/certificate" not in html and "available once the record is anchored" in html  # (the API: 409)
    assert "Owner history" in html and "Registered to" in html


def test_verify_a_resized_copy_is_a_perceptual_match(client, registered):
    artwork, raw = registered
    response = client.post("/verify", {"file": SimpleUploadedFile("copy.jpg", resized(raw, 64))})
    html = response.content.decode()
    assert response.status_code == 200 and "Looks like a registered work" in html
    assert f'href="/artworks/{artwork.public_id}"' in html and "distance" in html


def test_verify_the_signed_preview_shows_its_trusted_content_credentials(client, registered):
    artwork, _ = registered
    with artwork.preview.open("rb") as handle:
        preview = handle.read()
    response = client.post("/verify", {"file": SimpleUploadedFile("preview.jpg", preview)})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="content-credentials"' in html and "✓ Trusted" in html
    assert "Atelier DEVELOPMENT C2PA signer" in html and "c2pa.created → c2pa.edited" in html
    assert "notAllowed" in html and "is a preview exactly as Atelier signed it" in html
    assert str(artwork.provenance_record.public_id) in html


def test_verify_a_file_signed_by_a_stranger_says_not_trusted(client, registered):
    from provenance.credentials import c2pa_manifests as m
    from provenance.credentials.certificates import issue_signing_material

    artwork, raw = registered
    other = issue_signing_material(root_cn="Stranger root", signer_cn="Stranger", organization="Elsewhere")
    spec = m.ManifestSpec(
        title="x",
        digital_source_type=m.SOURCE_UPLOADED,
        author_name="Someone",
        author_url="",
        atelier={"record_id": str(artwork.provenance_record.public_id)},
    )
    forged = m.sign(data=raw, spec=spec, chain_pem=other.chain_pem, key_pem=other.key_pem).data
    html = client.post("/verify", {"file": SimpleUploadedFile("f.png", forged)}).content.decode()
    assert "Not trusted" in html and "Stranger" in html and "✓ Trusted" not in html


def test_verify_by_hash_and_bad_or_unknown_hashes(client, registered):
    artwork, _ = registered
    html = client.get(f"/verify?sha256=0x{artwork.content_sha256.upper()}").content.decode()
    assert "Exact match" in html
    response = client.get("/verify?sha256=not-a-hash")
    assert response.status_code == 400 and "64 hexadecimal characters" in response.content.decode()
    assert 'value="not-a-hash"' in response.content.decode()
    response = client.get(f"/verify?sha256={'ab' * 32}")
    assert response.status_code == 404 and "Not registered" in response.content.decode()


def test_verify_refuses_what_the_api_refuses(client, settings):
    response = client.post("/verify", {})
    assert response.status_code == 400 and "Choose a file or paste a sha256" in response.content.decode()
    response = client.post("/verify", {"file": SimpleUploadedFile("x.png", b"not an image at all")})
    assert response.status_code == 400 and 'class="errorlist"' in response.content.decode()
    settings.PROVENANCE_VERIFY_MAX_BYTES = 1000
    response = client.post("/verify", {"file": SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * 70_000)})
    assert response.status_code == 413 and "too large" in response.content.decode()


def test_verify_page_shares_the_api_throttle(client, registered, settings):
    from django.core.cache import cache

    artwork, _ = registered
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] | {"verify": "2/min"}
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"DEFAULT_THROTTLE_RATES": rates}
    from rest_framework.throttling import ScopedRateThrottle

    original = ScopedRateThrottle.THROTTLE_RATES  # read once at import: set and put back by hand
    ScopedRateThrottle.THROTTLE_RATES = rates
    try:
        cache.clear()
        assert client.get(f"/verify?sha256={artwork.content_sha256}").status_code == 200
        assert client.get(f"/api/v1/verify/{artwork.content_sha256}").status_code == 200
        response = client.get(f"/verify?sha256={artwork.content_sha256}")
        assert response.status_code == 429 and "Too many checks" in response.content.decode()
        assert client.get(f"/api/v1/verify/{artwork.content_sha256}").status_code == 429
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original


def test_a_browser_gets_a_404_page_and_an_api_client_problem_json(client):
    page = client.get("/no/such/page", HTTP_ACCEPT=HTML)
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    assert "Page not found" in page.content.decode() and 'href="/gallery"' in page.content.decode()
    api = client.get("/api/v1/no-such-endpoint", HTTP_ACCEPT=HTML)  # an /api/ path: always problem+json
    assert api.status_code == 404 and api["Content-Type"] == "application/problem+json"
    assert api.json()["code"] == "not_found"
    plain = client.get("/no/such/page")  # a client that doesn't ask for HTML
    assert plain["Content-Type"] == "application/problem+json"


def _boom(request):
    raise RuntimeError("boom")


def _forbidden(request):
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied


urlpatterns = [path("boom", _boom), path("forbidden", _forbidden), *site_urls]
handler403 = "marketplace.storefront.errors.handler403"
handler404 = "marketplace.storefront.errors.handler404"
handler500 = "marketplace.storefront.errors.handler500"


@override_settings(ROOT_URLCONF=__name__)
def test_500_and_403_are_pages_for_browsers_and_problems_for_api_clients():
    browser = Client(raise_request_exception=False)
    page = browser.get("/boom", HTTP_ACCEPT=HTML)
    assert page.status_code == 500 and "Something went wrong" in page.content.decode()
    assert browser.get("/boom")["Content-Type"] == "application/problem+json"
    page = browser.get("/forbidden", HTTP_ACCEPT=HTML)
    assert page.status_code == 403 and "Not allowed" in page.content.decode()
    assert browser.get("/forbidden").json()["code"] == "forbidden"


def test_the_certificate_page_of_a_pending_record_says_so_and_an_unknown_one_is_404(client, registered):
    record = registered[0].provenance_record
    pending = client.get(f"/certificates/{record.public_id}", HTTP_ACCEPT="text/html")
    assert pending.status_code == 409 and "Not anchored yet" in pending.content.decode()
    unknown = client.get("/certificates/00000000-0000-0000-0000-000000000000", HTTP_ACCEPT="text/html")
    assert unknown.status_code == 404
