"""The SSRF guard: at create/update through the API (400 naming `url`, nothing stored) and at send time."""

import ipaddress

import pytest

from marketplace.webhooks import services
from marketplace.webhooks.models import WebhookDelivery, WebhookEndpoint
from marketplace.webhooks.ssrf import UnsafeURL, forbidden_reason, vet_url

PUBLIC = "http://93.184.215.14/hooks"  # a public address literal: no DNS, never contacted by these tests

FORBIDDEN_URLS = [
    "http://127.0.0.1/hooks",
    "http://localhost/hooks",
    "http://localhost./hooks",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/latest",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fe80::1]/",
    "http://[ff02::1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://127.1/",
    "http://user:pass@example.com/",
    "http://user@93.184.215.14/",
    "ftp://example.com/file",
    "file:///etc/passwd",
    "gopher://93.184.215.14/",
    "javascript:alert(1)",
    "http://nonexistent.invalid/",
    "http:///nohost",
    "http://93.184.215.14:99999/",
    "http://93.184.215.14/a b",
]


@pytest.fixture
def no_endpoint_exists():
    yield
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", FORBIDDEN_URLS)
def test_forbidden_url_is_400_naming_url_and_nothing_is_stored(user_client, no_private, url):
    response = user_client.post("/api/v1/webhooks", {"url": url}, format="json")
    assert response.status_code == 400, response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert list(body["errors"]) == ["url"]
    assert body["code"] in {"unsafe_url", "invalid"}
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_public_address_is_accepted(user_client, no_private):
    response = user_client.post("/api/v1/webhooks", {"url": PUBLIC}, format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.django_db
def test_error_says_which_address_is_forbidden(user_client, no_private):
    body = user_client.post("/api/v1/webhooks", {"url": "http://localhost:8000/x"}, format="json").json()
    assert "127.0.0.1" in body["detail"] and "loopback" in body["detail"]


@pytest.mark.django_db
def test_host_resolving_to_any_private_address_is_refused(user_client, no_private, fake_dns):
    fake_dns["mixed.atelier.test"] = [["93.184.215.14", "10.1.2.3"]]
    response = user_client.post("/api/v1/webhooks", {"url": "https://mixed.atelier.test/hook"}, format="json")
    assert response.status_code == 400
    assert "10.1.2.3" in response.json()["errors"]["url"][0]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_https_only_in_production(user_client, no_private, settings):
    settings.ATELIER_ENV = "production"
    refused = user_client.post("/api/v1/webhooks", {"url": PUBLIC}, format="json")
    assert refused.status_code == 400 and "https" in refused.json()["errors"]["url"][0]
    assert not WebhookEndpoint.objects.exists()
    accepted = user_client.post("/api/v1/webhooks", {"url": PUBLIC.replace("http:", "https:")}, format="json")
    assert accepted.status_code == 201


@pytest.mark.django_db
def test_http_is_allowed_outside_production(user_client, no_private, settings):
    settings.ATELIER_ENV = "development"
    assert user_client.post("/api/v1/webhooks", {"url": PUBLIC}, format="json").status_code == 201


@pytest.mark.django_db
def test_update_to_a_forbidden_url_is_400_and_keeps_the_old_url(user_client, user, no_private):
    endpoint = services.webhook_endpoint_create(owner=user, url=PUBLIC)
    response = user_client.patch(
        f"/api/v1/webhooks/{endpoint.public_id}", {"url": "http://169.254.169.254/latest/meta-data"}, format="json"
    )
    assert response.status_code == 400 and "url" in response.json()["errors"]
    endpoint.refresh_from_db()
    assert endpoint.url == PUBLIC


@pytest.mark.django_db
def test_allow_private_networks_setting_lets_local_urls_through(user_client, private_ok):
    assert user_client.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/h"}, format="json").status_code == 201


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("100.100.100.200", "CGNAT"),
        ("::ffff:8.8.8.8", "IPv4-mapped"),
        ("fd00::1", "unique-local"),
        ("0.0.0.0", "unspecified"),
        ("239.255.255.250", "multicast"),
        ("64:ff9b::a00:1", "embedding 10.0.0.1"),
    ],
)
def test_forbidden_reason_names_the_kind_of_address(address, words):
    assert words in forbidden_reason(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_are_allowed(address):
    assert forbidden_reason(ipaddress.ip_address(address)) is None


def test_vetted_target_keeps_host_port_path_and_query(settings, fake_dns):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    fake_dns["hooks.atelier.test"] = [["93.184.215.14"]]
    target = vet_url("https://hooks.atelier.test:8443/in/bound?team=7#frag")
    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "hooks.atelier.test",
        8443,
        "/in/bound?team=7",
    )
    assert target.addresses == ("93.184.215.14",)


def test_unicode_host_is_sent_in_idna_form(settings, fake_dns):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    fake_dns["xn--bcher-kva.atelier.test"] = [["93.184.215.14"]]
    assert vet_url("https://bücher.atelier.test/").host == "xn--bcher-kva.atelier.test"


def test_dns_failure_is_unsafe(settings, fake_dns):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(UnsafeURL, match="does not resolve"):
        vet_url("https://missing.atelier.test/")


@pytest.mark.django_db
def test_dns_rebinding_after_the_check_is_blocked_at_send_time(user, no_private, fake_dns, receiver, run_tasks):
    # The name is public when the endpoint is saved, then points at the receiver on 127.0.0.1.
    fake_dns["rebind.atelier.test"] = [["93.184.215.14"], ["127.0.0.1"]]
    endpoint = services.webhook_endpoint_create(owner=user, url=f"http://rebind.atelier.test:{receiver.port}/hooks")
    delivery = services.webhook_endpoint_send_test(endpoint=endpoint)
    run_tasks()
    delivery.refresh_from_db()
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None
    assert attempt.error.startswith("blocked:") and "127.0.0.1" in attempt.error
    assert delivery.state == "queued"  # an ordinary failed attempt: retried with backoff
    assert receiver.requests == []
    assert WebhookDelivery.objects.count() == 1
