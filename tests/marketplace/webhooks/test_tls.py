"""https deliveries to a pinned address: SNI and certificate checks use the URL's host name."""

import shutil
import ssl
import subprocess

import pytest

from core.events import event_emit
from marketplace.webhooks import services

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def self_signed(tmp_path, name: str) -> tuple[str, str]:
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


def tls_receiver(make_receiver, cert: str, key: str):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return make_receiver(tls=context)


def deliver(user, url, run_tasks):
    endpoint = services.webhook_endpoint_create(owner=user, url=url)
    event_emit(type="order.paid", user=user, payload={})
    services.webhook_events_fan_out()
    run_tasks()
    return endpoint.deliveries.get()


@pytest.mark.django_db
def test_https_to_the_vetted_address_sends_sni_and_verifies_the_hosts_certificate(
    user, make_receiver, run_tasks, fake_dns, private_ok, tmp_path
):
    cert, key = self_signed(tmp_path, "hooks.atelier.test")
    private_ok.WEBHOOK_CA_FILE = cert
    receiver = tls_receiver(make_receiver, cert, key)
    fake_dns["hooks.atelier.test"] = [["127.0.0.1"]]
    delivery = deliver(user, f"https://hooks.atelier.test:{receiver.port}/hooks", run_tasks)
    assert delivery.state == "succeeded", delivery.last_error
    assert receiver.sni_names == ["hooks.atelier.test"]
    assert receiver.requests[0].headers["host"] == f"hooks.atelier.test:{receiver.port}"


@pytest.mark.django_db
def test_certificate_for_another_name_fails_the_attempt(user, make_receiver, run_tasks, fake_dns, private_ok, tmp_path):
    cert, key = self_signed(tmp_path, "other.atelier.test")
    private_ok.WEBHOOK_CA_FILE = cert
    receiver = tls_receiver(make_receiver, cert, key)
    fake_dns["hooks.atelier.test"] = [["127.0.0.1"]]
    delivery = deliver(user, f"https://hooks.atelier.test:{receiver.port}/hooks", run_tasks)
    attempt = delivery.attempt_log.get()
    assert delivery.state == "queued" and attempt.status_code is None
    assert attempt.error.startswith("TLS error") and "CERTIFICATE" in attempt.error.upper()
    assert receiver.requests == []
