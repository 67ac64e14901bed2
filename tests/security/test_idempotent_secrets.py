"""Finding 10: a secret shown once is never stored in an idempotency record nor replayed, and only a person
signed in (login token) may list, create or revoke API keys."""

import json

import pytest
from rest_framework.test import APIClient

from core.models import IdempotencyKey


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _stored_text() -> str:
    return json.dumps(list(IdempotencyKey.objects.values("response_body")), default=str)


@pytest.mark.django_db
def test_api_key_secret_is_not_kept_in_the_idempotency_record_nor_replayed(user_client):
    first = user_client.post(
        "/api/v1/api-keys", {"name": "ci", "scopes": ["profile:read"]}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == 201
    secret = first.json()["key"]
    assert secret[8:] not in _stored_text()
    replay = user_client.post(
        "/api/v1/api-keys", {"name": "ci", "scopes": ["profile:read"]}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert replay.status_code == 409
    assert replay.json()["code"] == "idempotent_secret_not_replayable"
    assert replay.json()["resource"] == first.json()["id"]
    assert secret not in replay.content.decode()


@pytest.mark.django_db
def test_a_narrow_api_key_cannot_list_create_or_revoke_api_keys(user_client):
    created = user_client.post("/api/v1/api-keys", {"name": "narrow", "scopes": ["profile:read"]}, format="json").json()
    narrow = bearer(created["key"])
    for response in (
        narrow.get("/api/v1/api-keys"),
        narrow.post(
            "/api/v1/api-keys", {"name": "child", "scopes": ["profile:read"]}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
        ),
        narrow.get(f"/api/v1/api-keys/{created['id']}"),
        narrow.delete(f"/api/v1/api-keys/{created['id']}"),
    ):
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "login_token_required"
    assert not IdempotencyKey.objects.filter(key="k-2").exists()


@pytest.mark.django_db
def test_webhook_signing_secrets_are_not_kept_in_idempotency_records(artist_client):
    created = artist_client.post(
        "/api/v1/webhooks", {"url": "https://93.184.215.14/hooks"}, format="json", HTTP_IDEMPOTENCY_KEY="w-1"
    )
    assert created.status_code == 201, created.content
    rotated = artist_client.post(
        f"/api/v1/webhooks/{created.json()['id']}/rotate-secret",
        {"previous_secret_expires_in": 0},
        format="json",
        HTTP_IDEMPOTENCY_KEY="w-2",
    )
    assert rotated.status_code == 200, rotated.content
    stored = _stored_text()
    assert created.json()["secret"] not in stored and rotated.json()["secret"] not in stored
    again = artist_client.post(
        "/api/v1/webhooks", {"url": "https://93.184.215.14/hooks"}, format="json", HTTP_IDEMPOTENCY_KEY="w-1"
    )
    assert again.status_code == 409 and created.json()["secret"] not in again.content.decode()
