import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["title"] and body["detail"]
    return body


@pytest.mark.django_db
def test_unknown_api_path_is_404_problem(api):
    assert_problem(api.get("/api/v1/does-not-exist"), 404, "not_found")


@pytest.mark.django_db
def test_wrong_method_is_405_problem(user_client):
    assert_problem(user_client.delete("/api/v1/me"), 405, "method_not_allowed")


@pytest.mark.django_db
def test_missing_credentials_is_401_with_challenge(api):
    response = api.get("/api/v1/me")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_garbage_bearer_token_is_401(api):
    api.credentials(HTTP_AUTHORIZATION="Bearer atk_not-a-real-token")
    assert_problem(api.get("/api/v1/me"), 401, "authentication_failed")


@pytest.mark.django_db
def test_malformed_json_is_400_and_writes_nothing(user_client, user):
    response = user_client.post("/api/v1/api-keys", data='{"name": "x"', content_type="application/json")
    assert_problem(response, 400, "malformed_request")
    assert user.api_keys.count() == 0


@pytest.mark.django_db
def test_wrong_type_names_the_field(user_client, user):
    response = user_client.post("/api/v1/api-keys", {"name": "k", "scopes": "profile:read"}, format="json")
    body = assert_problem(response, 400, "invalid")
    assert "scopes" in body["errors"]
    assert user.api_keys.count() == 0


@pytest.mark.django_db
def test_unknown_field_is_rejected_by_name(user_client, user):
    response = user_client.post("/api/v1/api-keys", {"name": "k", "owner": "someone"}, format="json")
    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"owner": ["Unknown or read-only field."]}
    assert user.api_keys.count() == 0


@pytest.mark.django_db
def test_throttled_request_is_429_with_retry_after(api, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "2/min"})
    from django.core.cache import cache

    cache.clear()
    for _ in range(2):
        api.post("/api/v1/auth/login", {"email": "a@example.com", "password": "x"}, format="json")
    response = api.post("/api/v1/auth/login", {"email": "a@example.com", "password": "x"}, format="json")
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    cache.clear()


@pytest.mark.django_db
@pytest.mark.urls("tests.core.urls_boom")
def test_unhandled_exception_in_api_view_is_500_without_traceback():
    client = APIClient(raise_request_exception=False)
    response = client.get("/boom")
    body = assert_problem(response, 500, "server_error")
    assert "secret internal detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert set(body) == {"type", "title", "status", "detail", "code"}


@pytest.mark.django_db
@pytest.mark.urls("tests.core.urls_boom")
def test_unhandled_exception_in_plain_view_is_500_problem():
    client = APIClient(raise_request_exception=False)
    response = client.get("/plain-boom")
    assert_problem(response, 500, "server_error")
    assert "secret internal detail" not in response.content.decode()
