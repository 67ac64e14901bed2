import pytest

from bench.synthetic_images import encode_jpeg, encode_png, resized, synthetic_image
from core.models import DomainEvent
from marketplace.gallery.models import Artwork
from provenance.models import ProvenanceRecord
from provenance.selectors import record_by_sha256
from tests.marketplace.gallery.helpers import PNG_SIZE, upload


def near_copy(seed: int) -> bytes:
    """The same picture, slightly smaller and re-encoded: other bytes, nearly the same perceptual hash."""
    return encode_jpeg(resized(synthetic_image(seed, size=PNG_SIZE), scale=0.9), quality=80)


@pytest.mark.django_db
def test_publishing_registers_the_artwork_with_provenance_in_the_same_transaction(artist_client, artist, make_artwork):
    draft = make_artwork(20, publish=False)
    assert not ProvenanceRecord.objects.exists()
    response = artist_client.post(f"/api/v1/artworks/{draft['id']}/publish")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "published" and body["published_at"]
    record = record_by_sha256(sha256=draft["content_sha256"])
    assert record.subject == f"gallery.artwork:{draft['id']}"
    assert record.creator == record.owner == f"accounts.user:{artist.public_id}"
    assert body["provenance"] == {
        "status": "pending",
        "record_id": str(record.public_id),
        "content_sha256": draft["content_sha256"],
        "owner": record.owner,
        "transaction_hash": None,
        "block_number": None,
    }
    assert DomainEvent.objects.filter(type="artwork.published", user=artist).count() == 1


@pytest.mark.django_db
def test_the_provenance_status_follows_the_record(api, make_artwork):
    body = make_artwork(21)
    ProvenanceRecord.objects.filter(content_sha256=body["content_sha256"]).update(state="batched")
    assert api.get(f"/api/v1/artworks/{body['id']}").json()["provenance"]["status"] == "batched"
    listed = api.get("/api/v1/artworks").json()["results"]
    assert [item["provenance_status"] for item in listed] == ["batched"]


@pytest.mark.django_db
def test_a_near_duplicate_of_another_owners_work_is_409_naming_the_record(client_for, make_user, make_artwork):
    first_artist = make_user(role="artist")
    original = make_artwork(22, client=client_for(first_artist))
    copier = client_for(make_user(role="artist"))
    draft = upload(copier, raw=near_copy(22)).json()
    response = copier.post(f"/api/v1/artworks/{draft['id']}/publish")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "near_duplicate"
    record = record_by_sha256(sha256=original["content_sha256"])
    assert body["record"]["id"] == str(record.public_id)
    assert body["record"]["subject"] == f"gallery.artwork:{original['id']}"
    assert body["record"]["owner"] == f"accounts.user:{first_artist.public_id}"
    assert 0 < body["record"]["distance"] <= 31
    # nothing changed: still a draft, no record for the copy
    assert Artwork.objects.get(public_id=draft["id"]).state == "draft"
    assert ProvenanceRecord.objects.count() == 1
    assert not DomainEvent.objects.filter(type="artwork.published", payload__artwork=draft["id"]).exists()


@pytest.mark.django_db
def test_the_exact_same_bytes_as_another_owners_work_are_409(client_for, make_user, make_artwork):
    original = make_artwork(23, client=client_for(make_user(role="artist")))
    copier = client_for(make_user(role="artist"))
    same = Artwork.objects.get(public_id=original["id"]).original.read()
    draft = upload(copier, raw=same).json()
    assert draft["content_sha256"] == original["content_sha256"]
    response = copier.post(f"/api/v1/artworks/{draft['id']}/publish")
    assert response.status_code == 409 and response.json()["record"]["distance"] == 0


@pytest.mark.django_db
def test_the_artists_own_earlier_work_is_allowed_and_linked_as_derived_from(artist_client, make_artwork):
    earlier = make_artwork(24)
    variant = upload(artist_client, raw=near_copy(24), title="Variant").json()
    response = artist_client.post(f"/api/v1/artworks/{variant['id']}/publish")
    assert response.status_code == 200, response.json()
    assert response.json()["derived_from"] == earlier["id"]
    assert ProvenanceRecord.objects.count() == 2


@pytest.mark.django_db
def test_an_unrelated_image_is_not_linked(artist_client, make_artwork):
    make_artwork(25)
    other = make_artwork(26, title="Other")
    assert other["derived_from"] is None


@pytest.mark.django_db
def test_withdrawing_hides_the_work_and_republishing_keeps_its_record(artist_client, api, make_artwork):
    body = make_artwork(27)
    withdrawn = artist_client.post(f"/api/v1/artworks/{body['id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert api.get(f"/api/v1/artworks/{body['id']}").status_code == 404
    assert api.get("/api/v1/artworks").json()["results"] == []
    again = artist_client.post(f"/api/v1/artworks/{body['id']}/publish")
    assert again.status_code == 200 and again.json()["provenance"]["record_id"] == body["provenance"]["record_id"]
    assert ProvenanceRecord.objects.count() == 1


@pytest.mark.parametrize("action, state", [("publish", "published"), ("withdraw", "draft")])
@pytest.mark.django_db
def test_invalid_artwork_transitions_are_409_naming_the_state(artist_client, make_artwork, action, state):
    body = make_artwork(28, publish=state == "published")
    response = artist_client.post(f"/api/v1/artworks/{body['id']}/{action}")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition" and response.json()["state"] == state


@pytest.mark.django_db
def test_near_duplicate_check_skips_hashes_too_weak_to_match(client_for, make_user, make_artwork):
    """Flat images have low-quality PDQ hashes that match noise; they never block each other."""
    flat = [encode_png(synthetic_image(0, size=(64, 64)).point(lambda _: value)) for value in (40, 200)]
    first = client_for(make_user(role="artist"))
    second = client_for(make_user(role="artist"))
    one = upload(first, raw=flat[0]).json()
    assert first.post(f"/api/v1/artworks/{one['id']}/publish").status_code == 200
    two = upload(second, raw=flat[1]).json()
    assert second.post(f"/api/v1/artworks/{two['id']}/publish").status_code == 200
