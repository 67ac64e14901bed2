"""Strict request bodies (core.request_body): malformed JSON is a 400 wherever it is sent, and a bodyless
action refuses fields instead of ignoring them — before it runs."""

import pytest
from rest_framework.test import APIClient

from tests.core.urls_boom import CountingActionView

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls_boom")]


@pytest.fixture(autouse=True)
def _count_from_zero():
    CountingActionView.runs = 0


def test_a_bodyless_action_runs_with_no_body_or_an_empty_object():
    client = APIClient()
    assert client.post("/action").json() == {"runs": 1}
    assert client.post("/action", {}, format="json").json() == {"runs": 2}
    assert client.post("/action", data=b"  ", content_type="application/json").json() == {"runs": 3}


@pytest.mark.parametrize(
    ("body", "content_type", "fields"),
    [
        (b'{"force": true, "as": "staff"}', "application/json", ["as", "force"]),
        (b"[1, 2]", "application/json", ["non_field_errors"]),
        (b"force=1", "application/x-www-form-urlencoded", ["force"]),
        (b"hello", "text/plain", ["non_field_errors"]),
    ],
)
def test_a_bodyless_action_refuses_a_body_and_does_not_run(body, content_type, fields):
    response = APIClient().post("/action", data=body, content_type=content_type)
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert sorted(response.json()["errors"]) == fields
    assert CountingActionView.runs == 0


@pytest.mark.parametrize("path", ["/action", "/api/v1/auth/login", "/api/v1/me"])
@pytest.mark.parametrize("method", ["post", "patch", "put"])
def test_malformed_json_is_400_before_any_view_runs(path, method):
    response = getattr(APIClient(), method)(path, data=b'{"title": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request" and "not valid JSON" in response.json()["detail"]
    assert CountingActionView.runs == 0


def test_get_requests_are_not_checked():
    response = APIClient().generic("GET", "/api/v1/plans", data=b"{oops", content_type="application/json")
    assert response.status_code == 200
