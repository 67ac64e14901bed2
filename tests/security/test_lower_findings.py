"""Finding 11 (lower severity): an artist cannot withdraw a work whose exclusive licence was sold; webhook test
and redeliver are throttled; popularity counts a viewer once; a password change can revoke API keys."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from marketplace.accounts.models import ApiKey
from marketplace.gallery.models import Artwork
from tests.helpers import PASSWORD
from tests.marketplace.gallery import conftest as gallery
from tests.marketplace.gallery.helpers import buy

gallery_media, make_artwork, make_listing, on_pro_plan = (
    gallery.gallery_media,
    gallery.make_artwork,
    gallery.make_listing,
    gallery.on_pro_plan,
)


@pytest.mark.django_db
def test_an_artist_cannot_withdraw_a_work_whose_exclusive_licence_was_sold(
    artist_client, artist, client_for, make_user, on_pro_plan, make_artwork, make_listing
):
    on_pro_plan(artist)
    artwork = make_artwork(41)
    listing = make_listing(artwork["id"], licence_type="exclusive", price=100_000)
    assert buy(client_for(make_user()), listing["id"]).json()["state"] == "fulfilled"
    response = artist_client.post(f"/api/v1/artworks/{artwork['id']}/withdraw")
    assert response.status_code == 409 and response.json()["code"] == "exclusive_sold"
    assert Artwork.objects.get(public_id=artwork["id"]).state == "published"


@pytest.mark.django_db
def test_webhook_test_and_redeliver_are_throttled_per_user(user_client, user, monkeypatch, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    from marketplace.webhooks.services import webhook_endpoint_create

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"webhook_send": "2/min"})
    endpoint = webhook_endpoint_create(owner=user, url="https://93.184.215.14/hooks")
    codes = [user_client.post(f"/api/v1/webhooks/{endpoint.public_id}/test").status_code for _ in range(3)]
    assert codes == [202, 202, 429]


@pytest.mark.django_db
def test_popularity_counts_each_viewer_once(api, user_client, make_artwork):
    artwork = make_artwork(3)
    for _ in range(5):
        api.get(f"/api/v1/artworks/{artwork['id']}", REMOTE_ADDR="203.0.113.9")
        user_client.get(f"/api/v1/artworks/{artwork['id']}")
    api.get(f"/api/v1/artworks/{artwork['id']}", REMOTE_ADDR="203.0.113.10")
    assert Artwork.objects.get(public_id=artwork["id"]).view_count == 3


@pytest.mark.django_db
def test_a_password_change_can_revoke_every_api_key(user_client, user):
    user_client.post("/api/v1/api-keys", {"name": "ci", "scopes": ["profile:read"]}, format="json")
    kept = user_client.post(
        "/api/v1/auth/password",
        {"current_password": PASSWORD, "new_password": "a-long-and-unusual-passphrase"},
        format="json",
    )
    assert kept.status_code == 200 and ApiKey.objects.get(user=user).revoked_at is None
    signed_in = APIClient()
    signed_in.credentials(HTTP_AUTHORIZATION=f"Bearer {kept.json()['token']}")
    revoked = signed_in.post(
        "/api/v1/auth/password",
        {
            "current_password": "a-long-and-unusual-passphrase",
            "new_password": "another-long-unusual-phrase",
            "revoke_api_keys": True,
        },
        format="json",
    )
    assert revoked.status_code == 200 and ApiKey.objects.get(user=user).revoked_at is not None


def test_a_password_reset_revokes_every_api_key(client, make_user, mailoutbox):
    """Whoever resets the password is the mailbox's owner; keys made by someone who had the old one go."""
    import re

    from marketplace.accounts.models import ApiKey
    from marketplace.accounts.services import api_key_create

    user = make_user(email="me@example.com")
    api_key_create(user=user, name="ci", scopes=["profile:read"])
    assert client.post("/password-reset", {"email": "me@example.com"}).status_code == 302
    link = re.search(r"http://testserver(/password-reset/\S+)", mailoutbox[-1].body).group(1)
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    new = "a-brand-new-long-passphrase"
    assert client.post(set_url, {"new_password1": new, "new_password2": new}).status_code == 302
    assert not ApiKey.objects.filter(user=user, revoked_at=None).exists()
