"""Finding 4: uploads are refused by role and by size before their bytes are read; every route has a body cap,
checked from Content-Length before parsing, and upload routes have their app's cap."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser
from django.test import Client

from core.body_limits import MULTIPART_OVERHEAD, route_limit


@pytest.fixture
def parsed(monkeypatch):
    """Counts multipart parses: a refusal must come before any."""
    calls = []
    real = MultiPartParser.parse
    monkeypatch.setattr(MultiPartParser, "parse", lambda self: calls.append(1) or real(self))
    return calls


def big_file(size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("art.png", b"\x89PNG\r\n\x1a\n" + b"\0" * size, content_type="image/png")


@pytest.mark.django_db
def test_a_buyer_cannot_upload_an_artwork_and_the_body_is_never_parsed(user_client, parsed):
    response = user_client.post("/api/v1/artworks", {"title": "x", "file": big_file(1000)}, format="multipart")
    assert response.status_code == 403
    assert parsed == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "method", "setting", "value"),
    [
        ("/api/v1/artworks", "post", "GALLERY_MAX_UPLOAD_BYTES", 4096),
        ("/api/v1/me/avatar", "put", None, None),
        ("/api/v1/verify", "post", "PROVENANCE_VERIFY_MAX_BYTES", 4096),
    ],
)
def test_an_upload_over_the_route_cap_is_413_before_parsing(
    artist_client, parsed, settings, path, method, setting, value
):
    if setting:
        setattr(settings, setting, value)
    limit = route_limit(
        {"/api/v1/artworks": "artwork-list", "/api/v1/me/avatar": "me-avatar", "/api/v1/verify": "provenance-verify"}[
            path
        ]
    )
    response = getattr(artist_client, method)(path, {"title": "x", "file": big_file(limit + 1)}, format="multipart")
    assert response.status_code == 413, response.content
    assert response.json()["code"] == "payload_too_large" and response.json()["max_bytes"] == limit
    assert parsed == []


@pytest.mark.django_db
def test_json_routes_have_the_default_cap(user_client, settings):
    settings.REQUEST_BODY_MAX_BYTES = 2048
    response = user_client.patch("/api/v1/me", {"bio": "x" * 4000}, format="json")
    assert response.status_code == 413
    assert user_client.patch("/api/v1/me", {"bio": "x" * 100}, format="json").status_code == 200


@pytest.mark.django_db
def test_a_declared_size_over_the_app_cap_is_refused_without_reading(artist_client, settings, monkeypatch):
    """Under the route cap (multipart overhead) but over the file cap: refused by upload.size, unread."""
    settings.GALLERY_MAX_UPLOAD_BYTES = 4096
    from django.core.files.uploadedfile import InMemoryUploadedFile

    reads = []
    real = InMemoryUploadedFile.chunks
    monkeypatch.setattr(InMemoryUploadedFile, "chunks", lambda self, *a, **k: reads.append(1) or real(self, *a, **k))
    response = artist_client.post("/api/v1/artworks", {"title": "x", "file": big_file(4096 + 100)}, format="multipart")
    assert response.status_code == 413
    assert reads == []
    assert route_limit("artwork-list") == 4096 + MULTIPART_OVERHEAD


def test_a_content_length_that_is_not_a_number_is_400():
    response = Client().generic(
        "PATCH", "/api/v1/me", data=b"{}", content_type="application/json", CONTENT_LENGTH="not-a-number"
    )
    assert response.status_code == 400 and response.json()["code"] == "malformed_request"
