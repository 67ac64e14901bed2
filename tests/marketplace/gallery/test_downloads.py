import hashlib
import time
from unittest import mock

import pytest
from rest_framework.test import APIClient

from provenance.credentials.c2pa_manifests import strip_manifest
from tests.marketplace.gallery.helpers import buy

TTL = 300


def link_for(client, artwork_id: str):
    return client.post(f"/api/v1/artworks/{artwork_id}/download-url")


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


@pytest.fixture
def bought(user_client, make_artwork, make_listing):
    artwork = make_artwork(60)
    buy(user_client, make_listing(artwork["id"])["id"])
    return artwork


@pytest.mark.django_db
def test_a_holder_gets_a_signed_link_that_serves_the_original_as_an_attachment(user_client, bought):
    response = link_for(user_client, bought["id"])
    assert response.status_code == 200
    body = response.json()
    assert body["url"].startswith("http://testserver/api/v1/downloads/") and body["expires_at"]
    file = APIClient().get(path_of(body["url"]))  # the signed link itself is the credential
    assert file.status_code == 200 and file["Content-Type"] == "image/png"
    assert file["Content-Disposition"].startswith("attachment; filename=")
    delivered = b"".join(file.streaming_content)
    # the original carries Content Credentials; without them it is the registered bytes exactly
    assert hashlib.sha256(strip_manifest(delivered)).hexdigest() == bought["content_sha256"]
    assert user_client.get(f"/api/v1/artworks/{bought['id']}/download-url").status_code == 200  # GET works too


@pytest.mark.django_db
def test_the_artist_may_download_their_own_original(artist_client, make_artwork):
    draft = make_artwork(61, publish=False)
    response = link_for(artist_client, draft["id"])
    assert response.status_code == 200
    assert artist_client.get(path_of(response.json()["url"])).status_code == 200


@pytest.mark.django_db
def test_a_non_holder_cannot_get_a_link(client_for, make_user, api, make_artwork):
    published, draft = make_artwork(62), make_artwork(63, publish=False)
    stranger = client_for(make_user())
    refused = link_for(stranger, published["id"])
    assert refused.status_code == 403 and refused.json()["code"] == "not_a_licence_holder"
    assert link_for(stranger, draft["id"]).status_code == 404  # another user's draft does not exist for them
    assert link_for(api, published["id"]).status_code == 401


@pytest.mark.django_db
def test_an_expired_link_is_410(user_client, settings, bought):
    with mock.patch("django.core.signing.time.time", return_value=time.time() - TTL - 5):
        url = link_for(user_client, bought["id"]).json()["url"]
    response = user_client.get(path_of(url))
    assert response.status_code == 410
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "download_link_expired"


@pytest.mark.django_db
def test_a_link_still_inside_its_ttl_works(user_client, bought):
    with mock.patch("django.core.signing.time.time", return_value=time.time() - TTL + 30):
        url = link_for(user_client, bought["id"]).json()["url"]
    assert user_client.get(path_of(url)).status_code == 200


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # the signature
        lambda token: "x" + token[1:],  # the payload
        lambda token: token.split(":")[0],  # no signature at all
        lambda token: "garbage",
    ],
)
@pytest.mark.django_db
def test_a_tampered_link_is_403(user_client, bought, tamper):
    token = path_of(link_for(user_client, bought["id"]).json()["url"]).removeprefix("/api/v1/downloads/")
    response = user_client.get(f"/api/v1/downloads/{tamper(token)}")
    assert response.status_code == 403 and response.json()["code"] == "download_link_invalid"


@pytest.mark.django_db
def test_a_link_for_another_artwork_cannot_be_forged_from_a_valid_one(user_client, make_artwork, bought):
    """The token signs the artwork and the user together: swapping the artwork breaks the signature."""
    import base64
    import json

    other = make_artwork(64, title="Other")
    token = path_of(link_for(user_client, bought["id"]).json()["url"]).removeprefix("/api/v1/downloads/")
    payload, *signature = token.split(":")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["a"] = other["id"]
    forged = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
    response = user_client.get(f"/api/v1/downloads/{':'.join([forged, *signature])}")
    assert response.status_code == 403


@pytest.mark.django_db
def test_a_link_presented_by_another_signed_in_user_is_403(user_client, client_for, make_user, bought):
    url = link_for(user_client, bought["id"]).json()["url"]
    response = client_for(make_user()).get(path_of(url))
    assert response.status_code == 403 and response.json()["code"] == "download_link_not_yours"


@pytest.mark.django_db
def test_a_link_stops_working_once_the_licence_is_refunded(user_client, client_for, make_user, bought):
    url = link_for(user_client, bought["id"]).json()["url"]
    order = user_client.get("/api/v1/orders").json()["results"][0]
    client_for(make_user(role="staff")).post(f"/api/v1/orders/{order['id']}/refund")
    response = user_client.get(path_of(url))
    assert response.status_code == 403 and response.json()["code"] == "not_a_licence_holder"
