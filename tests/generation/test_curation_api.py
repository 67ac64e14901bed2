"""Curation: the owner marks generated images keep/reject/none and lists them by verdict; strangers get 404."""

import pytest

from generation.models import GeneratedImage, GenerationJob
from tests.helpers import run_queued_tasks


@pytest.fixture
def images(artist, artist_client, model_for) -> list[str]:
    version = model_for(artist)
    job = artist_client.post(
        "/api/v1/generation-jobs", {"model": str(version.public_id), "seeds": [1, 2, 3]}, format="json"
    ).json()
    run_queued_tasks(queues="training,generation")
    assert GenerationJob.objects.get(public_id=job["id"]).state == "succeeded"
    return [str(pk) for pk in GeneratedImage.objects.order_by("index").values_list("public_id", flat=True)]


def curate(client, image_id, verdict):
    return client.post(f"/api/v1/generated-images/{image_id}/curation", {"verdict": verdict}, format="json")


@pytest.mark.django_db
def test_the_owner_marks_images_and_lists_them_by_verdict(artist_client, images):
    keep, reject, untouched = images
    response = curate(artist_client, keep, "keep")
    assert response.status_code == 200 and response.json()["curation"] == "keep"
    assert response.json()["curated_at"] is not None
    assert curate(artist_client, reject, "reject").json()["curation"] == "reject"

    def listed(verdict):
        body = artist_client.get("/api/v1/generated-images", {"curation": verdict}).json()
        return [item["id"] for item in body["results"]]

    assert listed("keep") == [keep] and listed("reject") == [reject] and listed("none") == [untouched]
    assert len(artist_client.get("/api/v1/generated-images").json()["results"]) == 3
    cleared = curate(artist_client, keep, "none").json()
    assert cleared["curation"] == "none" and cleared["curated_at"] is None
    assert listed("keep") == []


@pytest.mark.django_db
def test_a_bad_verdict_or_filter_is_400_and_changes_nothing(artist_client, images):
    response = curate(artist_client, images[0], "maybe")
    assert response.status_code == 400 and "verdict" in response.json()["errors"]
    assert (
        artist_client.post(
            f"/api/v1/generated-images/{images[0]}/curation", {"verdict": "keep", "x": 1}, format="json"
        ).status_code
        == 400
    )
    assert artist_client.get("/api/v1/generated-images", {"curation": "maybe"}).status_code == 400
    assert set(GeneratedImage.objects.values_list("curation", flat=True)) == {""}


@pytest.mark.django_db
def test_a_stranger_cannot_curate_or_list_anothers_images(images, make_user, client_for):
    stranger = client_for(make_user(role="artist"))
    assert curate(stranger, images[0], "reject").status_code == 404
    assert stranger.get("/api/v1/generated-images").json()["results"] == []
    assert set(GeneratedImage.objects.values_list("curation", flat=True)) == {""}
