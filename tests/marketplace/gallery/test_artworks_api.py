import hashlib
import io

import numpy as np
import pytest
from PIL import Image

from marketplace.gallery.models import Artwork, ArtworkTag
from marketplace.gallery.previews import PREVIEW_MAX_SIDE
from tests.marketplace.gallery.helpers import image_png, upload

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def stored_files(root) -> list:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@pytest.mark.django_db
def test_an_upload_becomes_a_draft_with_a_private_original_and_a_watermarked_preview(
    artist_client, artist, gallery_media
):
    raw = image_png(3, size=(1200, 900))
    response = upload(
        artist_client,
        raw=raw,
        title="  Morning   light ",
        description="Soft.",
        tags=["Landscape", "landscape", "  Dawn "],
        style="Impressionist",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "draft" and body["source"] == "upload"
    assert body["title"] == "Morning light" and body["tags"] == ["landscape", "dawn"]
    assert body["style"] == "impressionist" and body["provenance"] is None
    assert body["artist"]["id"] == str(artist.public_id) and body["owner"]["id"] == str(artist.public_id)
    artwork = Artwork.objects.get(public_id=body["id"])
    assert sorted(ArtworkTag.objects.filter(artwork=artwork).values_list("tag", flat=True)) == ["dawn", "landscape"]
    original = artwork.original.read()
    assert hashlib.sha256(original).hexdigest() == artwork.content_sha256 == body["content_sha256"]
    assert "gallery/originals" not in str(body)  # where the original lies is never exposed

    preview = artist_client.get(f"/api/v1/artworks/{body['id']}/preview")
    assert preview.status_code == 200 and preview["Content-Type"] == "image/jpeg"
    marked = Image.open(io.BytesIO(b"".join(preview.streaming_content))).convert("RGB")
    assert max(marked.size) == PREVIEW_MAX_SIDE and marked.size == (800, 600)
    # the same downscale without the watermark differs visibly: the mark is really drawn on the pixels
    plain = Image.open(io.BytesIO(original)).convert("RGB").resize(marked.size, Image.Resampling.LANCZOS)
    difference = np.abs(np.asarray(marked, dtype=np.int16) - np.asarray(plain, dtype=np.int16)).max(axis=2)
    assert (difference > 40).mean() > 0.02


@pytest.mark.parametrize(
    "raw, reason",
    [
        (SVG, "SVG"),
        (b"plain text, not an image", "not a PNG"),
        (image_png(1)[:200], "truncated"),
        (image_png(1) + b"<html><script>x</script></html>" * 3, "polyglot"),
    ],
)
@pytest.mark.django_db
def test_bad_uploads_are_400_with_the_reason_and_store_nothing(artist_client, gallery_media, raw, reason):
    response = upload(artist_client, raw=raw)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert reason in response.json()["detail"]
    assert not Artwork.objects.exists() and stored_files(gallery_media) == []


@pytest.mark.django_db
def test_an_upload_over_the_size_limit_is_413(artist_client, settings, gallery_media):
    settings.GALLERY_MAX_UPLOAD_BYTES = 1000
    response = upload(artist_client, 2)
    assert response.status_code == 413
    assert not Artwork.objects.exists()


@pytest.mark.django_db
def test_the_same_image_twice_is_409_naming_the_first_artwork(artist_client, gallery_media):
    first = upload(artist_client, 4).json()
    again = upload(artist_client, 4)
    assert again.status_code == 409 and again.json()["code"] == "duplicate_artwork"
    assert again.json()["artwork"] == first["id"]
    assert Artwork.objects.count() == 1 and len(stored_files(gallery_media)) == 2


@pytest.mark.django_db
def test_only_artists_create_artworks(user_client, api):
    assert upload(user_client).status_code == 403
    assert upload(api).status_code == 401
    assert not Artwork.objects.exists()


@pytest.mark.django_db
def test_file_or_generated_image_exactly_one_is_required(artist_client):
    response = artist_client.post("/api/v1/artworks", {"title": "Nothing"}, format="json")
    assert response.status_code == 400 and "file" in response.json()["errors"]


@pytest.mark.parametrize(
    "field, value",
    [
        ("artist", "00000000-0000-0000-0000-000000000001"),
        ("owner", "00000000-0000-0000-0000-000000000001"),
        ("state", "published"),
        ("royalty", "50"),
        ("price_paid", "1"),
        ("popularity", "1000"),
    ],
)
@pytest.mark.django_db
def test_writable_field_abuse_on_create_is_400_and_writes_nothing(artist_client, field, value):
    response = upload(artist_client, 5, **{field: value})
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not Artwork.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [("state", "published"), ("owner", "x"), ("artist", "x"), ("content_sha256", "0" * 64), ("popularity", 10**6)],
)
@pytest.mark.django_db
def test_writable_field_abuse_on_update_is_400_and_changes_nothing(artist_client, make_artwork, field, value):
    body = make_artwork(6, publish=False)
    before = Artwork.objects.values().get(public_id=body["id"])
    response = artist_client.patch(f"/api/v1/artworks/{body['id']}", {field: value, "title": "New"}, format="json")
    assert response.status_code == 400 and field in response.json()["errors"]
    assert Artwork.objects.values().get(public_id=body["id"]) == before


@pytest.mark.django_db
def test_the_artist_edits_title_tags_and_style(artist_client, make_artwork):
    body = make_artwork(7, publish=False, tags=["old"])
    response = artist_client.patch(
        f"/api/v1/artworks/{body['id']}",
        {"title": "Renamed", "tags": ["Night", "city"], "style": "noir"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["tags"], response.json()["style"]) == (
        "Renamed",
        ["night", "city"],
        "noir",
    )
    artwork = Artwork.objects.get(public_id=body["id"])
    assert sorted(ArtworkTag.objects.filter(artwork=artwork).values_list("tag", flat=True)) == ["city", "night"]
    assert "renamed" in artwork.search_text and "old" not in artwork.search_text


@pytest.mark.django_db
def test_another_users_artwork_is_404_for_every_write(client_for, make_user, make_artwork):
    body = make_artwork(8)
    other = client_for(make_user(role="artist"))
    url = f"/api/v1/artworks/{body['id']}"
    assert other.patch(url, {"title": "Mine now"}, format="json").status_code == 404
    assert other.post(f"{url}/withdraw").status_code == 404
    assert other.post(f"{url}/publish").status_code == 404
    assert (
        other.post(
            f"{url}/listings", {"licence_type": "personal", "price": 100, "currency": "USD"}, format="json"
        ).status_code
        == 404
    )
    assert Artwork.objects.get(public_id=body["id"]).title == "Dawn"


@pytest.mark.django_db
def test_a_draft_is_visible_only_to_its_artist(artist_client, client_for, make_user, api, make_artwork):
    body = make_artwork(9, publish=False)
    url = f"/api/v1/artworks/{body['id']}"
    assert artist_client.get(url).status_code == 200
    assert api.get(url).status_code == 404
    assert client_for(make_user()).get(url).status_code == 404
    assert api.get(f"{url}/preview").status_code == 404
    assert client_for(make_user()).get(f"{url}/listings").status_code == 404


@pytest.mark.django_db
def test_a_published_artwork_and_its_preview_are_public(api, make_artwork):
    body = make_artwork(10)
    detail = api.get(f"/api/v1/artworks/{body['id']}")
    assert detail.status_code == 200 and detail.json()["state"] == "published"
    preview = api.get(f"/api/v1/artworks/{body['id']}/preview")
    assert preview.status_code == 200 and "public" in preview["Cache-Control"]


@pytest.mark.django_db
def test_mine_lists_the_artists_works_in_every_state_only(artist_client, client_for, make_user, make_artwork):
    draft, published = make_artwork(11, publish=False), make_artwork(12)
    make_artwork(13, client=client_for(make_user(role="artist")))
    body = artist_client.get("/api/v1/artworks/mine").json()
    assert {item["id"]: item["state"] for item in body["results"]} == {
        draft["id"]: "draft",
        published["id"]: "published",
    }


@pytest.mark.django_db
def test_an_artwork_from_a_generated_image_keeps_its_lineage(artist_client, artist, generated_image_for):
    image = generated_image_for(artist, seed=42)
    response = artist_client.post(
        "/api/v1/artworks", {"title": "Seed 42", "generated_image": str(image.public_id)}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["source"] == "generated" and body["content_sha256"] == image.sha256
    lineage = body["lineage"]
    assert lineage["generated_image"] == str(image.public_id)
    assert lineage["model_version"] == str(image.model_version.public_id)
    assert lineage["seed"] == 42 and lineage["truncation"] == image.truncation
    assert lineage["onnx_sha256"] == image.model_version.onnx_sha256
    again = artist_client.post(
        "/api/v1/artworks", {"title": "Twice", "generated_image": str(image.public_id)}, format="json"
    )
    assert again.status_code == 409


@pytest.mark.django_db
def test_another_users_generated_image_is_404(client_for, make_user, generated_image_for):
    owner, thief = make_user(role="artist"), make_user(role="artist")
    image = generated_image_for(owner)
    response = client_for(thief).post(
        "/api/v1/artworks", {"title": "Not mine", "generated_image": str(image.public_id)}, format="json"
    )
    assert response.status_code == 404
    assert not Artwork.objects.exists()
