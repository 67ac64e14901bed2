"""Finding 3: the RPC URL (hosted ones embed an API key) never reaches the public: /healthz and verification
errors say "chain unavailable", and /healthz does not call the node on every request."""

import pytest

from provenance.chain.anvil import free_port
from provenance.health import chain_health
from provenance.models import AnchorState, ProvenanceRecord, RecordState, TxState
from provenance.services import batch_build
from tests.provenance import conftest as provenance_fixtures

register_image = provenance_fixtures.register_image

SECRET = "v3-0123456789abcdef-api-key"


@pytest.fixture
def keyed_rpc_url(settings):
    settings.CHAIN_RPC_URL = f"http://127.0.0.1:{free_port()}/{SECRET}?apikey={SECRET}"
    return settings.CHAIN_RPC_URL


@pytest.mark.django_db
def test_healthz_never_shows_the_rpc_url_even_when_the_node_is_down(api, keyed_rpc_url):
    response = api.get("/healthz")
    assert response.status_code == 503
    text = response.content.decode()
    assert SECRET not in text and "127.0.0.1" not in text
    assert response.json()["checks"]["chain"]["error"] == "chain unavailable"


@pytest.mark.django_db
def test_healthz_caches_the_chain_probe(api, keyed_rpc_url, monkeypatch):
    from provenance import health

    calls = []
    real = health._probe
    monkeypatch.setattr(health, "_probe", lambda: calls.append(1) or real())
    for _ in range(5):
        api.get("/healthz")
    assert len(calls) == 1


@pytest.mark.django_db
def test_verification_with_the_chain_down_says_chain_unavailable(api, register_image, keyed_rpc_url):
    record, _ = register_image(5)
    batch = batch_build()  # an anchored batch, so verification asks the (down) node
    batch.transaction.tx_hash, batch.transaction.state = "0x" + "11" * 32, TxState.MINED
    batch.transaction.save()
    batch.state, batch.registry_address, batch.block_number = AnchorState.ANCHORED, "0x" + "22" * 20, 5
    batch.save()
    ProvenanceRecord.objects.update(state=RecordState.ANCHORED)
    response = api.get(f"/api/v1/verify/{record.content_sha256}")
    assert response.status_code == 200
    check = response.json()["match"]["chain_check"]
    assert check["status"] == "unavailable" and check["detail"] == "chain unavailable"
    assert SECRET not in response.content.decode() and "127.0.0.1" not in response.content.decode()


def test_connection_errors_and_task_details_are_scrubbed():
    from provenance.chain.connection import scrub

    url = f"https://user:pw@eth.example.net/{SECRET}?key={SECRET}"
    text = f"HTTPSConnectionPool: Max retries exceeded with url: /{SECRET}?key={SECRET} ({url})"
    cleaned = scrub(text, url)
    assert SECRET not in cleaned and "pw@" not in cleaned
    assert cleaned.startswith("HTTPSConnectionPool: Max retries exceeded")


def test_a_down_node_error_names_only_the_host(keyed_rpc_url):
    from provenance.chain.connection import connect
    from provenance.chain.errors import ChainUnavailable

    with pytest.raises(ChainUnavailable) as caught:
        connect(rpc_url=keyed_rpc_url, expected_chain_id=31337, timeout=0.5, retries=1)
    assert SECRET not in str(caught.value) and "127.0.0.1" in str(caught.value)


def test_health_report_carries_no_endpoint(settings, keyed_rpc_url):
    report = chain_health()
    assert "rpc_url" not in report and SECRET not in str(report)
