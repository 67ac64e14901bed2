"""Every file Atelier delivers carries Content Credentials: the public preview (signed at first publish, naming
the record) and each downloaded original (signed as served, with the downloader's licence as its
training-and-mining entry); verify finds the record from either."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from marketplace.gallery.models import Artwork
from provenance.certificates import content_credentials_digest
from provenance.credentials import c2pa_manifests as m
from provenance.models import ContentCredential
from provenance.selectors import manifest_digest_for_record
from provenance.services.credentials import trust_anchors_pem
from tests.marketplace.gallery.helpers import buy

pytestmark = pytest.mark.django_db


def read(data: bytes) -> m.Reading:
    return m.read(data=data, trust_anchors_pem=trust_anchors_pem())


def preview_of(artwork_id: str) -> bytes:
    response = APIClient().get(f"/api/v1/artworks/{artwork_id}/preview")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def download(client, artwork_id: str) -> bytes:
    url = client.post(f"/api/v1/artworks/{artwork_id}/download-url").json()["url"]
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def actions(reading: m.Reading) -> list[str]:
    return [action["action"] for action in reading.assertions["c2pa.actions.v2"]["actions"]]


def test_a_published_preview_carries_a_trusted_manifest_naming_its_record(make_artwork, artist):
    artist.display_name = "Ada Lovelace"
    artist.save()
    body = make_artwork(31)
    artwork = Artwork.objects.select_related("provenance_record").get(public_id=body["id"])
    record = artwork.provenance_record
    preview = preview_of(body["id"])
    reading = read(preview)
    assert reading.status == "trusted"
    assert actions(reading) == ["c2pa.created", "c2pa.edited", "c2pa.watermarked", "c2pa.published"]
    assert reading.assertions["c2pa.actions.v2"]["actions"][0]["digitalSourceType"] == m.SOURCE_UPLOADED
    assert reading.assertions[m.AUTHOR_LABEL]["author"] == [
        {"@type": "Person", "name": "Ada Lovelace", "url": f"/artists/{artist.public_id}"}
    ]
    atelier = reading.atelier
    assert atelier["record_id"] == str(record.public_id) and atelier["content_sha256"] == record.content_sha256
    assert atelier["chain_id"] == 31337 and atelier["transaction_hash"] is None and atelier["merkle_root"] is None
    assert atelier["asset"] == "preview" and atelier["licence"] is None
    entries = reading.assertions[m.TRAINING_MINING_LABEL]["entries"]
    assert {entry["use"] for entry in entries.values()} == {"notAllowed"}
    assert reading.assertions[m.SOFT_BINDING_LABEL]["alg"] == m.WATERMARK_ALG  # the invisible watermark's key
    credential = ContentCredential.objects.get(record=record)
    assert credential.asset_sha256 == hashlib.sha256(preview).hexdigest()
    assert manifest_digest_for_record(record) == credential.manifest_sha256
    assert content_credentials_digest(record) == credential.manifest_sha256  # what certificate v2 quotes
    assert artwork.preview.name.endswith("-c2pa.jpg")


def test_verify_recognises_the_signed_preview_itself(make_artwork, api):
    body = make_artwork(32)
    result = api.post(
        "/api/v1/verify", {"file": SimpleUploadedFile("p.jpg", preview_of(body["id"]))}, format="multipart"
    ).json()
    cr = result["content_credentials"]
    assert cr["status"] == "trusted" and cr["issued_by_atelier"] is True
    assert cr["record"]["id"] == body["provenance"]["record_id"]


@pytest.mark.parametrize(
    ("licence", "use"),
    [
        ("personal", {"use": "notAllowed"}),
        ("exclusive", {"use": "constrained", "constraint_info": "Only with the artist's written agreement."}),
    ],
)
def test_a_download_carries_the_training_mining_value_of_the_licence_sold(
    licence, use, user_client, artist, on_pro_plan, make_artwork, make_listing, api
):
    on_pro_plan(artist)
    body = make_artwork(33)
    assert buy(user_client, make_listing(body["id"], licence_type=licence)["id"]).status_code in (200, 201)
    delivered = download(user_client, body["id"])
    reading = read(delivered)
    # the original was marked at creation (160x120 carries the invisible watermark), so its manifest says so
    assert reading.status == "trusted" and actions(reading) == ["c2pa.created", "c2pa.watermarked", "c2pa.published"]
    assert reading.assertions[m.TRAINING_MINING_LABEL]["entries"]["c2pa.ai_training"] == use
    assert reading.atelier["licence"] == licence and reading.atelier["asset"] == "original"
    assert hashlib.sha256(m.strip_manifest(delivered)).hexdigest() == body["content_sha256"]
    found = api.post("/api/v1/verify", {"file": SimpleUploadedFile("o.png", delivered)}, format="multipart").json()
    assert found["match"]["record"]["content_sha256"] == body["content_sha256"]


def test_the_artist_downloads_with_training_not_allowed(artist_client, make_artwork):
    body = make_artwork(34)
    reading = read(download(artist_client, body["id"]))
    assert reading.atelier["licence"] is None
    assert reading.assertions[m.TRAINING_MINING_LABEL]["entries"]["c2pa.data_mining"] == {"use": "notAllowed"}


def test_a_generated_work_says_trained_algorithmic_media_and_names_its_model_and_dataset(
    artist, artist_client, generated_image_for
):
    image = generated_image_for(artist, seed=42)
    created = artist_client.post(
        "/api/v1/artworks", {"title": "Seed 42", "generated_image": str(image.public_id)}, format="json"
    )
    assert created.status_code == 201, created.json()
    artwork_id = created.json()["id"]
    assert artist_client.post(f"/api/v1/artworks/{artwork_id}/publish").status_code == 200
    reading = read(preview_of(artwork_id))
    assert reading.status == "trusted"
    assert reading.assertions["c2pa.actions.v2"]["actions"][0]["digitalSourceType"] == m.SOURCE_GENERATED
    # a 32 px work is too small to carry the invisible mark, so no watermarked action
    assert "c2pa.watermarked" not in actions(reading)
    ids = {ingredient["instance_id"] for ingredient in reading.ingredients}
    version = image.model_version
    assert f"atelier:model_version:{version.public_id}:sha256:{version.onnx_sha256}" in ids
    assert any(i.endswith(f":sha256:{version.dataset_hash}") and i.startswith("atelier:dataset:") for i in ids)
    assert reading.atelier["lineage"]["seed"] == 42


def test_with_signing_off_previews_and_downloads_are_unsigned(settings, make_artwork, artist_client):
    settings.PROVENANCE_C2PA_SIGNING = False
    body = make_artwork(35)
    artwork = Artwork.objects.get(public_id=body["id"])
    assert read(preview_of(body["id"])).status == "absent"
    assert manifest_digest_for_record(artwork.provenance_record) is None
    delivered = download(artist_client, body["id"])
    assert hashlib.sha256(delivered).hexdigest() == body["content_sha256"]


def test_a_publish_that_fails_leaves_no_signed_preview_behind(make_artwork, gallery_media, monkeypatch):
    from core.errors import Conflict
    from marketplace.gallery import ports

    body = make_artwork(36, publish=False)

    def refuse(**_):
        raise Conflict("no", code="test_refusal")

    monkeypatch.setattr(ports, "preview_credential_record", refuse)
    client = APIClient()
    client.force_authenticate(Artwork.objects.get(public_id=body["id"]).artist)
    assert client.post(f"/api/v1/artworks/{body['id']}/publish").status_code == 409
    assert not list((gallery_media / "gallery" / "previews").glob("*-c2pa.jpg"))
    assert ContentCredential.objects.count() == 0
