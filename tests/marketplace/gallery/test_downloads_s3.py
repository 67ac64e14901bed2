"""Gallery media in an S3 bucket (moto's server): originals and previews land in the bucket, and a download link
answers with a presigned URL of the original that expires with the link at the latest.

moto accepts any presigned signature and ignores expiry, so expiry and signature are checked against our own
code: the expiry the URL carries, our link's 410, and the signature recomputed from our credentials."""

import datetime
import hashlib
import time
import urllib.error
import urllib.request
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from marketplace.gallery.models import Artwork
from tests.marketplace.gallery.helpers import buy
from tests.s3 import s3_client

TTL = 300  # GALLERY_DOWNLOAD_URL_TTL_SECONDS' default


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def link_for(client, artwork_id: str) -> str:
    response = client.post(f"/api/v1/artworks/{artwork_id}/download-url")
    assert response.status_code == 200, response.json()
    return path_of(response.json()["url"])


def fetch(url: str) -> tuple[int, bytes, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (the test's own S3 server)
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read(), dict(refused.headers)


@pytest.fixture
def unsigned_downloads(settings):
    """A presigned URL serves the stored file as it is, so downloads redirect only with C2PA signing off."""
    settings.PROVENANCE_C2PA_SIGNING = False


@pytest.fixture
def bought(s3_media, user_client, make_artwork, make_listing):
    artwork = make_artwork(70)
    buy(user_client, make_listing(artwork["id"])["id"])
    return artwork


@pytest.mark.django_db
def test_uploaded_originals_and_previews_land_in_the_bucket(s3_media, make_artwork, gallery_media, api):
    body = make_artwork(71)
    artwork = Artwork.objects.get(public_id=body["id"])
    assert {artwork.original.name, artwork.preview.name} <= set(s3_media.list_keys())
    assert hashlib.sha256(s3_media.read(artwork.original.name)).hexdigest() == artwork.content_sha256
    preview = api.get(f"/api/v1/artworks/{body['id']}/preview")
    assert preview.status_code == 200 and b"".join(preview.streaming_content) == s3_media.read(artwork.preview.name)
    assert not any(path.is_file() for path in gallery_media.rglob("*"))


@pytest.mark.django_db
def test_a_download_link_redirects_to_a_presigned_url_of_the_original(
    unsigned_downloads, s3_media, user_client, bought, settings
):
    response = APIClient().get(link_for(user_client, bought["id"]))
    assert response.status_code == 302 and response["Cache-Control"] == "private, no-store"
    url = response["Location"]
    parts, query = urlsplit(url), parse_qs(urlsplit(url).query)
    assert url.startswith(f"{s3_media.endpoint}/{s3_media.bucket}/")
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Signature"]
    assert int(query["X-Amz-Expires"][0]) == settings.STORAGE_PRESIGNED_TTL_SECONDS == 60
    assert query["response-content-disposition"][0].startswith("attachment; filename=")
    status, data, headers = fetch(url)
    assert status == 200 and hashlib.sha256(data).hexdigest() == bought["content_sha256"]
    assert headers["Content-Disposition"].startswith("attachment")
    unsigned, _, _ = fetch(f"{parts.scheme}://{parts.netloc}{parts.path}")
    assert unsigned == 403  # the bucket is private: only the presigned URL reads it


@pytest.mark.django_db
def test_a_presigned_url_never_outlives_the_link_it_was_made_for(unsigned_downloads, s3_media, user_client, bought):
    with mock.patch("django.core.signing.time.time", return_value=time.time() - TTL + 20):
        link = link_for(user_client, bought["id"])
    response = APIClient().get(link)
    assert response.status_code == 302
    expires = int(parse_qs(urlsplit(response["Location"]).query)["X-Amz-Expires"][0])
    assert 1 <= expires <= 20


@pytest.mark.django_db
def test_an_expired_or_tampered_link_gets_no_presigned_url(unsigned_downloads, s3_media, user_client, bought):
    with mock.patch("django.core.signing.time.time", return_value=time.time() - TTL - 5):
        expired = link_for(user_client, bought["id"])
    response = APIClient().get(expired)
    assert response.status_code == 410 and "Location" not in response
    assert response.json()["code"] == "download_link_expired"
    fresh = link_for(user_client, bought["id"])
    tampered = APIClient().get(fresh[:-2] + ("AA" if not fresh.endswith("AA") else "BB"))
    assert tampered.status_code == 403 and "Location" not in tampered


@pytest.mark.django_db
def test_the_presigned_signature_is_made_with_our_credentials(unsigned_downloads, s3_media, user_client, bought):
    url = APIClient().get(link_for(user_client, bought["id"]))["Location"]
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    signed_at = datetime.datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    key = parts.path.removeprefix(f"/{s3_media.bucket}/")
    params = {
        "Bucket": s3_media.bucket,
        "Key": key,
        "ResponseContentDisposition": query["response-content-disposition"][0],
        "ResponseContentType": query["response-content-type"][0],
        "ResponseCacheControl": query["response-cache-control"][0],
    }

    def signature(client) -> str:
        with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at.replace(tzinfo=None)):
            again = client.generate_presigned_url("get_object", Params=params, ExpiresIn=int(query["X-Amz-Expires"][0]))
        return parse_qs(urlsplit(again).query)["X-Amz-Signature"][0]

    assert signature(s3_client(s3_media.endpoint)) == query["X-Amz-Signature"][0]
    assert signature(s3_client(s3_media.endpoint, secret_key="not-our-secret")) != query["X-Amz-Signature"][0]


@pytest.mark.django_db
def test_with_c2pa_signing_on_a_download_from_the_bucket_is_served_signed(s3_media, user_client, bought):
    from provenance.credentials.c2pa_manifests import read, strip_manifest
    from provenance.services.credentials import trust_anchors_pem

    response = APIClient().get(link_for(user_client, bought["id"]))
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    data = b"".join(response.streaming_content)
    assert read(data=data, trust_anchors_pem=trust_anchors_pem()).status == "trusted"
    assert hashlib.sha256(strip_manifest(data)).hexdigest() == bought["content_sha256"]
