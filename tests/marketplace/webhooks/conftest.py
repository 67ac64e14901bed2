"""Fixtures for the webhook tests: a real receiver per test, private-address switches, fake DNS."""

import socket
from collections.abc import Callable, Iterator

import pytest

from marketplace.webhooks import ssrf
from tests.marketplace.webhooks.helpers import Receiver


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def receiver(make_receiver) -> Receiver:
    return make_receiver()


@pytest.fixture
def private_ok(settings):
    """Let deliveries reach the local receiver (the SSRF tests keep this off)."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    return settings


@pytest.fixture
def no_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    return settings


@pytest.fixture
def fake_dns(monkeypatch) -> dict[str, list[list[str]]]:
    """Names under .atelier.test resolve to what the test puts in the returned dict (a list per name, taken
    in turn, the last one repeating); everything else goes to the real resolver."""
    answers: dict[str, list[list[str]]] = {}
    real = ssrf.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            queue = answers[host]
            addresses = queue.pop(0) if len(queue) > 1 else queue[0]
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses
            ]
        if str(host).endswith(".atelier.test"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(ssrf, "getaddrinfo", getaddrinfo)
    return answers
