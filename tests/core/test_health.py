from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import WorkerHeartbeat
from provenance.chain.anvil import AnvilProcess


def beat(age_s: float = 0) -> None:
    WorkerHeartbeat.objects.create(
        worker_id="w1", hostname="h", pid=1, queues="*", last_seen=timezone.now() - timedelta(seconds=age_s)
    )


@pytest.fixture
def local_chain(settings):
    with AnvilProcess() as node:
        settings.CHAIN_RPC_URL = node.rpc_url
        yield node


@pytest.mark.chain
@pytest.mark.django_db
def test_healthz_is_200_with_database_worker_and_chain_up(api, local_chain):
    beat()
    response = api.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["worker"]["last_heartbeat_age_s"] < 5
    assert body["checks"]["chain"] | {"status": "ok", "chain_id": 31337} == body["checks"]["chain"]
    assert isinstance(body["checks"]["chain"]["latest_block"], int)
    assert "CPUExecutionProvider" in body["checks"]["onnxruntime"]["available_providers"]


@pytest.mark.django_db
def test_healthz_is_503_when_the_chain_is_unreachable(api, settings):
    from provenance.chain.anvil import free_port

    settings.CHAIN_RPC_URL = f"http://127.0.0.1:{free_port()}"
    beat()
    response = api.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["chain"]["status"] == "down"


@pytest.mark.chain
@pytest.mark.django_db
def test_healthz_is_503_when_no_worker_beat_recently(api, local_chain, settings):
    beat(age_s=settings.WORKER_HEALTHY_WITHIN.total_seconds() + 5)
    response = api.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["status"] == "down"


@pytest.mark.chain
@pytest.mark.django_db
def test_healthz_is_503_on_a_wrong_chain_id(api, local_chain, settings):
    beat()
    settings.CHAIN_ID = 1
    response = api.get("/healthz")
    assert response.status_code == 503
    assert "expected 1" in response.json()["checks"]["chain"]["error"]


@pytest.mark.django_db
def test_healthz_needs_no_authentication_and_is_not_cached(api):
    response = api.get("/healthz")
    assert response.status_code in (200, 503)
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
