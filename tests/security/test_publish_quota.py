"""Finding 6: publishing has a per-plan quota (each first publish is a provenance record the signer anchors)."""

import pytest

from marketplace.subscriptions.models import FREE_PLAN_CODE, Plan, UsageEntry

pytestmark = pytest.mark.django_db


def test_first_publishes_are_capped_per_period_and_a_republish_is_free(gallery_media, artist_client, make_artwork):
    Plan.objects.filter(code=FREE_PLAN_CODE).update(publications_per_period=2)
    first = make_artwork(1)
    make_artwork(2)
    third = make_artwork(3, publish=False)
    refused = artist_client.post(f"/api/v1/artworks/{third['id']}/publish")
    assert refused.status_code == 429, refused.json()
    body = refused.json()
    assert body["code"] == "quota_exceeded" and body["kind"] == "publication"
    assert (body["limit"], body["remaining"]) == (2, 0) and "Retry-After" in refused
    assert artist_client.get(f"/api/v1/artworks/{third['id']}").json()["state"] == "draft"  # nothing changed

    # withdrawing and publishing again registers nothing new, so it costs nothing
    assert artist_client.post(f"/api/v1/artworks/{first['id']}/withdraw").status_code == 200
    assert artist_client.post(f"/api/v1/artworks/{first['id']}/publish").status_code == 200
    assert UsageEntry.objects.filter(kind="publication").count() == 2

    quotas = artist_client.get("/api/v1/subscription").json()["quotas"]
    assert quotas["publication"] == {**quotas["publication"], "limit": 2, "used": 2, "remaining": 0}


def test_a_refused_publish_gives_its_quota_back(gallery_media, artist_client, make_artwork, make_user, client_for):
    """A publish that fails (a near-duplicate of another artist's work) spends nothing."""
    make_artwork(1)
    other = client_for(make_user(role="artist"))
    copy = make_artwork(1, client=other, publish=False)
    assert other.post(f"/api/v1/artworks/{copy['id']}/publish").status_code == 409
    assert UsageEntry.objects.filter(kind="publication").count() == 1
