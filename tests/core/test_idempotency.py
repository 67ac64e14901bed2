import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import IdempotencyKey
from core.services import idempotency_keys_prune
from tests.jobapp.models import SleepJob


def create_key(client, key: str, name: str = "ci"):
    return client.post("/api/v1/api-keys", {"name": name}, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_replay_returns_the_identical_response_and_executes_once(user_client, user):
    from marketplace.webhooks.models import WebhookDelivery
    from marketplace.webhooks.services import webhook_endpoint_create

    endpoint = webhook_endpoint_create(owner=user, url="https://93.184.215.14/hooks")
    first = user_client.post(f"/api/v1/webhooks/{endpoint.public_id}/test", HTTP_IDEMPOTENCY_KEY="key-1")
    second = user_client.post(f"/api/v1/webhooks/{endpoint.public_id}/test", HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


@pytest.mark.django_db
def test_a_replayed_error_is_problem_json_like_the_first_answer(user_client):
    url = "/api/v1/webhooks/00000000-0000-4000-8000-000000000000/test"  # no such endpoint: a 404, stored
    first = user_client.post(url, HTTP_IDEMPOTENCY_KEY="key-404")
    second = user_client.post(url, HTTP_IDEMPOTENCY_KEY="key-404")
    assert first.status_code == second.status_code == 404
    assert second["Idempotent-Replayed"] == "true"
    assert first["Content-Type"] == second["Content-Type"] == "application/problem+json"
    assert second.json() == first.json()


@pytest.mark.django_db
def test_a_replay_never_returns_a_secret_shown_once(user_client, user):
    first = create_key(user_client, "key-1")
    second = create_key(user_client, "key-1")
    assert (first.status_code, second.status_code) == (201, 409)
    assert second.json()["resource"] == first.json()["id"] and first.json()["key"] not in second.content.decode()
    assert user.api_keys.count() == 1


@pytest.mark.django_db
def test_same_key_with_a_different_body_is_422(user_client, user):
    create_key(user_client, "key-1", name="first")
    response = create_key(user_client, "key-1", name="second")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(user.api_keys.values_list("name", flat=True)) == ["first"]


@pytest.mark.django_db
def test_keys_are_per_user(client_for, make_user):
    alice, bob = make_user(), make_user()
    a = create_key(client_for(alice), "shared")
    b = create_key(client_for(bob), "shared")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


@pytest.mark.django_db
def test_request_in_flight_with_the_key_is_409(user_client, user):
    from core.services import idempotency_begin, request_fingerprint

    # The state a concurrent request leaves while it executes: the key taken, no response stored yet.
    fingerprint = request_fingerprint(
        method="POST", path="/api/v1/api-keys", payload={"data": {"name": "ci"}, "files": {}}
    )
    idempotency_begin(user=user, key="busy", method="POST", path="/api/v1/api-keys", fingerprint=fingerprint)
    response = create_key(user_client, "busy")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_flight"
    assert user.api_keys.count() == 0


@pytest.mark.django_db
def test_validation_failure_is_not_stored_so_the_key_can_be_retried(user_client, user):
    bad = user_client.post("/api/v1/api-keys", {"name": ""}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.filter(key="k").exists()


@pytest.mark.django_db
@pytest.mark.urls("tests.core.urls_boom")
def test_server_error_releases_the_key(user, client_for):
    client = client_for(user)
    client.raise_request_exception = False
    response = client.post("/failing-create", {}, format="json", HTTP_IDEMPOTENCY_KEY="k5")
    assert response.status_code == 500
    assert not IdempotencyKey.objects.filter(key="k5").exists()


@pytest.mark.django_db
def test_expired_keys_are_pruned_and_can_be_reused(user_client, user):
    create_key(user_client, "old", name="first")
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert idempotency_keys_prune() == 1
    assert create_key(user_client, "old", name="second").status_code == 201
    assert user.api_keys.count() == 2


@pytest.mark.django_db
def test_overlong_key_is_400(user_client):
    response = create_key(user_client, "x" * 300)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.core.urls_boom")
def test_two_concurrent_requests_with_one_key_execute_once(make_user, tmp_path):
    from marketplace.accounts.services import token_issue

    user = make_user()
    secret = token_issue(user=user).secret
    barrier = threading.Barrier(2)
    responses = []

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        barrier.wait()
        responses.append(
            client.post("/slow-create", {"pause": 0.5, "marker": "m"}, format="json", HTTP_IDEMPOTENCY_KEY="concurrent")
        )
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409]
    assert SleepJob.objects.count() == 1


@pytest.mark.django_db
def test_a_key_released_between_our_insert_and_our_read_is_taken_not_a_500(user):
    """Found by schemathesis with two workers: the insert collided with a request that then failed validation
    and released the key, so the row was gone when read back (DoesNotExist, a 500)."""
    from unittest import mock

    from django.db import IntegrityError

    from core import services

    real_create = IdempotencyKey.objects.create
    collisions = iter([True])

    def create_colliding_once(**fields):
        if next(collisions, False):
            raise IntegrityError("duplicate key")  # the other request held it; it is gone when we look
        return real_create(**fields)

    with mock.patch.object(IdempotencyKey.objects, "create", side_effect=create_colliding_once):
        outcome = services.idempotency_begin(user=user, key="k", method="POST", path="/p", fingerprint="f")
    assert outcome.record is not None and IdempotencyKey.objects.get().key == "k"
