"""Finding 1: throttles key on the address our trusted proxies saw, never on a client-chosen X-Forwarded-For."""

import itertools

import pytest
from django.test import RequestFactory, override_settings
from rest_framework.throttling import ScopedRateThrottle

from core.client_ip import client_ip

counter = itertools.count()


def _login(api, forwarded: str | None = None, remote: str = "203.0.113.7"):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return api.post(
        "/api/v1/auth/login", {"email": "nobody@example.com", "password": "wrong-password-1"}, format="json", **extra
    )


@pytest.mark.django_db
def test_a_random_forwarded_for_per_request_does_not_reset_the_login_limit(api, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "3/min"})
    statuses = [_login(api, forwarded=f"198.51.100.{next(counter) % 250}").status_code for _ in range(5)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]


@pytest.mark.django_db
def test_register_and_anonymous_limits_ignore_forwarded_for(api, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"register": "2/min"})
    codes = []
    for n in range(4):
        codes.append(
            api.post(
                "/api/v1/auth/register",
                {"email": f"x{n}@example.com", "password": "pw"},
                format="json",
                HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
            ).status_code
        )
    assert codes[2:] == [429, 429]


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_trusted_proxy_the_client_is_the_address_it_appended(api, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "2/min"})
    # The client forges a left-hand entry; our proxy appends the real peer on the right.
    first = [_login(api, forwarded=f"1.2.3.{n}, 192.0.2.10", remote="10.0.0.1").status_code for n in range(3)]
    assert first == [401, 401, 429]
    # Another real client behind the same proxy has its own budget.
    assert _login(api, forwarded="1.2.3.4, 192.0.2.11", remote="10.0.0.1").status_code == 401


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.1"),
        (1, "1.1.1.1, 2.2.2.2", "2.2.2.2"),
        (2, "1.1.1.1, 2.2.2.2, 3.3.3.3", "2.2.2.2"),
        (2, "3.3.3.3", "3.3.3.3"),
        (1, "not-an-ip", "10.0.0.1"),
        (1, "", "10.0.0.1"),
    ],
)
def test_client_ip_reads_only_entries_our_proxies_appended(settings, trusted, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = trusted
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
