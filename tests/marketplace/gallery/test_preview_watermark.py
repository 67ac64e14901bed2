"""The invisible watermark: a work's original is marked once at creation (before it is hashed, so the registered
bytes are the marked bytes), its preview carries the same key, and the record stores the key for verify."""

import hashlib
import importlib
import io

import pytest
from django.apps import apps as django_apps
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from bench.synthetic_images import encode_png, synthetic_image
from core.uploads import image_clean
from marketplace.gallery.models import Artwork
from provenance.credentials import c2pa_manifests as m
from provenance.fingerprints.watermark import extract
from tests.marketplace.gallery.helpers import buy, upload

pytestmark = pytest.mark.django_db


def stored(name: str) -> bytes:
    with default_storage.open(name) as handle:
        return handle.read()


def key_in(data: bytes) -> str | None:
    found = extract(Image.open(io.BytesIO(data)).convert("RGB"))
    return found.key.hex() if found is not None else None


def jpeg(data: bytes, quality: int = 75) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def download(client, artwork_id: str) -> bytes:
    url = client.post(f"/api/v1/artworks/{artwork_id}/download-url").json()["url"]
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def test_the_original_and_the_preview_carry_the_key_stored_with_the_work(artist_client):
    raw = encode_png(synthetic_image(8, size=(256, 256)))
    artwork = Artwork.objects.get(public_id=upload(artist_client, raw=raw).json()["id"])
    clean = image_clean(raw=raw, name="art.png", max_bytes=len(raw) + 1).data  # what the upload stores unmarked
    assert artwork.original_watermarked and artwork.watermark_key == hashlib.sha256(clean).hexdigest()[:12]
    original = stored(artwork.original.name)
    assert original != raw and hashlib.sha256(original).hexdigest() == artwork.content_sha256  # marked, then hashed
    assert key_in(original) == artwork.watermark_key
    assert key_in(stored(artwork.preview.name)) == artwork.watermark_key


def test_the_same_upload_twice_is_still_an_exact_duplicate(artist_client):
    raw = encode_png(synthetic_image(10, size=(128, 128)))
    assert upload(artist_client, raw=raw).status_code == 201
    again = upload(artist_client, raw=raw)
    assert again.status_code == 409 and again.json()["code"] == "duplicate_artwork"


def test_a_copy_of_a_marked_original_keeps_its_key(artist_client):
    first = Artwork.objects.get(
        public_id=upload(artist_client, raw=encode_png(synthetic_image(11, size=(128, 128)))).json()["id"]
    )
    copy = Artwork.objects.get(public_id=upload(artist_client, raw=jpeg(stored(first.original.name), 92)).json()["id"])
    assert copy.watermark_key == first.watermark_key  # not re-marked with a key of its own


def test_a_preview_too_small_to_carry_it_has_the_visible_mark_only(artist_client):
    artwork = Artwork.objects.get(
        public_id=upload(artist_client, raw=encode_png(synthetic_image(9, size=(64, 64)))).json()["id"]
    )
    assert artwork.watermark_key == "" and not artwork.original_watermarked
    assert key_in(stored(artwork.preview.name)) is None
    assert key_in(stored(artwork.original.name)) is None


def test_the_setting_off_marks_nothing(artist_client, settings):
    settings.GALLERY_PREVIEW_INVISIBLE_WATERMARK = False
    raw = encode_png(synthetic_image(12, size=(256, 256)))
    artwork = Artwork.objects.get(public_id=upload(artist_client, raw=raw).json()["id"])
    assert artwork.watermark_key == "" and not artwork.original_watermarked
    clean = image_clean(raw=raw, name="art.png", max_bytes=len(raw) + 1).data
    assert stored(artwork.original.name) == clean and artwork.content_sha256 == hashlib.sha256(clean).hexdigest()
    assert key_in(stored(artwork.preview.name)) is None


def test_an_rgba_original_keeps_its_alpha(artist_client):
    image = synthetic_image(13, size=(128, 128)).convert("RGBA")
    image.putalpha(Image.linear_gradient("L").resize((128, 128)))
    artwork = Artwork.objects.get(public_id=upload(artist_client, raw=encode_png(image)).json()["id"])
    with Image.open(io.BytesIO(stored(artwork.original.name))) as marked:
        assert marked.mode == "RGBA" and marked.getchannel("A").tobytes() == image.getchannel("A").tobytes()
    assert artwork.original_watermarked


def test_a_delivered_original_leads_verify_to_its_record_from_a_stripped_jpeg_copy(
    user_client, artist, on_pro_plan, make_artwork, make_listing, api, settings
):
    on_pro_plan(artist)
    body = make_artwork(35)
    assert buy(user_client, make_listing(body["id"], licence_type="personal")["id"]).status_code in (200, 201)
    delivered = download(user_client, body["id"])
    stripped = m.strip_manifest(delivered)
    assert hashlib.sha256(stripped).hexdigest() == body["content_sha256"]  # the exact match still holds
    artwork = Artwork.objects.select_related("provenance_record").get(public_id=body["id"])
    record = artwork.provenance_record
    assert record.watermark_key == artwork.watermark_key != "" and key_in(stripped) == record.watermark_key
    reading = m.read(data=delivered, trust_anchors_pem="")
    watermarked = [a for a in reading.assertions["c2pa.actions.v2"]["actions"] if a["action"] == "c2pa.watermarked"]
    assert watermarked and "stored with the work's provenance record" in watermarked[0]["description"]
    assert reading.assertions[m.SOFT_BINDING_LABEL]["alg"] == m.WATERMARK_ALG
    settings.PROVENANCE_PDQ_MIN_QUALITY = 101  # PDQ off: the watermark is the only way in
    copy = jpeg(stripped, 75)
    result = api.post("/api/v1/verify", {"file": SimpleUploadedFile("copy.jpg", copy)}, format="multipart").json()
    assert result["match"] is None and result["perceptual_matches"] == []
    assert result["watermark"]["key"] == record.watermark_key
    assert result["watermark"]["record"]["id"] == str(record.public_id)


def test_gallery_backfill_gives_existing_artworks_the_key_their_previews_carry(make_artwork):
    body = make_artwork(41, publish=False)
    Artwork.objects.update(watermark_key="", original_watermarked=False)  # as 0004 finds a work made before it
    migration = importlib.import_module("marketplace.gallery.migrations.0004_artwork_watermark_key")
    migration.backfill(django_apps, None)
    artwork = Artwork.objects.get(public_id=body["id"])
    assert artwork.watermark_key == body["content_sha256"][:12] and not artwork.original_watermarked
