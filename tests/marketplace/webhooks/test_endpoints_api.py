import pytest

from marketplace.accounts.services import api_key_create
from marketplace.webhooks import services
from marketplace.webhooks.models import WebhookDelivery, WebhookEndpoint

PUBLIC = "https://93.184.215.14/hooks"


@pytest.fixture(autouse=True)
def _public_only(no_private):
    return no_private


def create(client, **body):
    return client.post("/api/v1/webhooks", {"url": PUBLIC, **body}, format="json")


@pytest.mark.django_db
def test_create_returns_the_secret_once_and_defaults_to_every_event(user_client, user):
    response = create(user_client, description="orders to ERP")
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["*"] and body["active"] is True and body["description"] == "orders to ERP"
    endpoint = WebhookEndpoint.objects.get(public_id=body["id"])
    assert endpoint.owner == user and endpoint.secret == body["secret"]
    detail = user_client.get(f"/api/v1/webhooks/{body['id']}").json()
    listed = user_client.get("/api/v1/webhooks").json()["results"]
    assert "secret" not in detail and "secret" not in listed[0]
    assert [item["id"] for item in listed] == [body["id"]]


@pytest.mark.django_db
def test_event_filter_is_stored_normalised(user_client):
    body = create(user_client, events=["order.*", "commission.offer_accepted", "order.*"]).json()
    assert body["events"] == ["order.*", "commission.offer_accepted"]


@pytest.mark.django_db
@pytest.mark.parametrize("events", [[], ["order"], ["*.paid"], "order.*", [""]])
def test_malformed_event_filter_is_400(user_client, events):
    response = create(user_client, events=events)
    assert response.status_code == 400
    assert any(name.startswith("events") for name in response.json()["errors"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["owner", "secret", "active", "consecutive_failures", "id"])
def test_client_cannot_set_server_owned_fields_on_create(user_client, make_user, field):
    other = make_user()
    value = {
        "owner": str(other.public_id),
        "secret": "whsec_AAAA",
        "active": False,
        "consecutive_failures": 0,
        "id": "00000000-0000-0000-0000-000000000000",
    }[field]
    response = create(user_client, **{field: value})
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["owner", "secret", "previous_secret", "disabled_reason"])
def test_client_cannot_set_server_owned_fields_on_update(user_client, user, make_user, field):
    endpoint = services.webhook_endpoint_create(owner=user, url=PUBLIC)
    response = user_client.patch(
        f"/api/v1/webhooks/{endpoint.public_id}", {field: str(make_user().public_id)}, format="json"
    )
    assert response.status_code == 400 and field in response.json()["errors"]
    fresh = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert (fresh.owner_id, fresh.secret) == (user.pk, endpoint.secret)


@pytest.mark.django_db
def test_patch_changes_only_what_is_given(user_client, user):
    endpoint = services.webhook_endpoint_create(owner=user, url=PUBLIC, events=["order.*"], description="d")
    response = user_client.patch(f"/api/v1/webhooks/{endpoint.public_id}", {"events": ["*"]}, format="json")
    assert response.status_code == 200
    assert response.json()["events"] == ["*"] and response.json()["description"] == "d"


@pytest.mark.django_db
def test_disable_and_reenable_by_patching_active(user_client, user):
    endpoint = services.webhook_endpoint_create(owner=user, url=PUBLIC)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=7)
    off = user_client.patch(f"/api/v1/webhooks/{endpoint.public_id}", {"active": False}, format="json").json()
    assert off["active"] is False and off["disabled_reason"] == "manual" and off["disabled_at"]
    on = user_client.patch(f"/api/v1/webhooks/{endpoint.public_id}", {"active": True}, format="json").json()
    assert on["active"] is True and on["disabled_reason"] == "" and on["consecutive_failures"] == 0


@pytest.mark.django_db
def test_delete_removes_the_endpoint_and_its_log(user_client, user):
    endpoint = services.webhook_endpoint_create(owner=user, url=PUBLIC)
    services.webhook_endpoint_send_test(endpoint=endpoint)
    assert user_client.delete(f"/api/v1/webhooks/{endpoint.public_id}").status_code == 204
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    assert user_client.get(f"/api/v1/webhooks/{endpoint.public_id}").status_code == 404


@pytest.mark.django_db
def test_rotate_secret_returns_a_new_secret_and_keeps_the_old_one_signing_for_a_while(user_client, user):
    endpoint = services.webhook_endpoint_create(owner=user, url=PUBLIC)
    response = user_client.post(f"/api/v1/webhooks/{endpoint.public_id}/rotate-secret", {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != endpoint.secret
    assert body["previous_secret_expires_at"]
    old_secret = endpoint.secret
    endpoint.refresh_from_db()
    assert endpoint.signing_secrets() == [body["secret"], old_secret]


@pytest.mark.django_db
def test_rotate_with_zero_grace_revokes_the_old_secret_at_once(user_client, user):
    endpoint = services.webhook_endpoint_create(owner=user, url=PUBLIC)
    body = user_client.post(
        f"/api/v1/webhooks/{endpoint.public_id}/rotate-secret", {"previous_secret_expires_in": 0}, format="json"
    ).json()
    endpoint.refresh_from_db()
    assert endpoint.signing_secrets() == [body["secret"]]


@pytest.mark.django_db
def test_rotate_grace_longer_than_a_week_is_400(user_client, user):
    endpoint = services.webhook_endpoint_create(owner=user, url=PUBLIC)
    response = user_client.post(
        f"/api/v1/webhooks/{endpoint.public_id}/rotate-secret", {"previous_secret_expires_in": 8 * 86400}, format="json"
    )
    assert response.status_code == 400 and "previous_secret_expires_in" in response.json()["errors"]


@pytest.mark.django_db
def test_test_event_is_queued_for_this_endpoint_only(user_client, user):
    target = services.webhook_endpoint_create(owner=user, url=PUBLIC, events=["order.paid"])
    services.webhook_endpoint_create(owner=user, url=PUBLIC)
    response = user_client.post(f"/api/v1/webhooks/{target.public_id}/test")
    assert response.status_code == 202
    assert response.json()["event_type"] == "webhook.test" and response.json()["state"] == "queued"
    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [target.pk]


@pytest.mark.django_db
def test_test_event_to_a_disabled_endpoint_is_409(user_client, user):
    endpoint = services.webhook_endpoint_create(owner=user, url=PUBLIC)
    services.webhook_endpoint_update(endpoint=endpoint, active=False)
    response = user_client.post(f"/api/v1/webhooks/{endpoint.public_id}/test")
    assert response.status_code == 409 and response.json()["code"] == "webhook_endpoint_disabled"
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_another_users_endpoint_and_delivery_are_404_everywhere(client_for, make_user):
    owner, stranger = make_user(), make_user()
    endpoint = services.webhook_endpoint_create(owner=owner, url=PUBLIC)
    delivery = services.webhook_endpoint_send_test(endpoint=endpoint)
    client = client_for(stranger)
    base = f"/api/v1/webhooks/{endpoint.public_id}"
    responses = [
        client.get(base),
        client.patch(base, {"description": "mine now"}, format="json"),
        client.delete(base),
        client.post(f"{base}/rotate-secret", {}, format="json"),
        client.post(f"{base}/test"),
        client.get(f"{base}/deliveries"),
        client.get(f"/api/v1/webhook-deliveries/{delivery.public_id}"),
        client.post(f"/api/v1/webhook-deliveries/{delivery.public_id}/redeliver"),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert all(r.json()["code"] == "not_found" for r in responses)
    assert client.get("/api/v1/webhooks").json()["results"] == []
    fresh = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert (fresh.description, fresh.secret) == ("", endpoint.secret)
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db
def test_anonymous_is_401(api):
    assert api.get("/api/v1/webhooks").status_code == 401


@pytest.mark.django_db
def test_api_key_needs_the_webhooks_write_scope(user, api):
    without = api_key_create(user=user, name="ro", scopes=["profile:read"]).secret
    with_scope = api_key_create(user=user, name="hooks", scopes=["webhooks:write"]).secret
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {without}")
    assert api.get("/api/v1/webhooks").status_code == 403
    assert create(api).status_code == 403
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {with_scope}")
    assert api.get("/api/v1/webhooks").status_code == 200
    assert create(api).status_code == 201


@pytest.mark.django_db
def test_endpoint_count_per_user_is_limited(user_client, user, settings):
    settings.WEBHOOK_MAX_ENDPOINTS_PER_USER = 2
    assert [create(user_client).status_code for _ in range(2)] == [201, 201]
    response = create(user_client)
    assert response.status_code == 409 and response.json()["code"] == "webhook_endpoint_limit"
    assert WebhookEndpoint.objects.filter(owner=user).count() == 2


@pytest.mark.django_db
def test_create_honours_idempotency_key(user_client, user):
    first = user_client.post("/api/v1/webhooks", {"url": PUBLIC}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    second = user_client.post("/api/v1/webhooks", {"url": PUBLIC}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (first.status_code, second.status_code) == (201, 409)  # the signing secret is shown once
    assert first.json()["id"] == second.json()["resource"]
    assert WebhookEndpoint.objects.filter(owner=user).count() == 1


@pytest.mark.django_db
def test_delivery_list_filters_by_state_and_rejects_unknown_states(user_client, user):
    endpoint = services.webhook_endpoint_create(owner=user, url=PUBLIC)
    services.webhook_endpoint_send_test(endpoint=endpoint)
    base = f"/api/v1/webhooks/{endpoint.public_id}/deliveries"
    assert len(user_client.get(base, {"state": "queued"}).json()["results"]) == 1
    assert user_client.get(base, {"state": "succeeded"}).json()["results"] == []
    bad = user_client.get(base, {"state": "exploded"})
    assert bad.status_code == 400 and "state" in bad.json()["errors"]
