"""/metrics: Prometheus text that prometheus_client's own parser reads, every figure an operator alerts on, and
only for a configured token or an allowed address. Request ids: answered, logged, carried into tasks."""

import json
import logging

import pytest
from django.tasks import task
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

from core.logging import JsonFormatter, RequestIdFilter
from core.request_id import HEADER, current_request_id

pytestmark = pytest.mark.django_db

EXPECTED = {
    # requests and database (django-prometheus' names)
    "django_http_requests_total_by_view_transport_method",
    "django_http_responses_total_by_status_view_method",
    "django_http_requests_latency_seconds_by_view_method",
    "django_db_execute_total",
    "django_db_query_duration_seconds",
    # queues and jobs
    "atelier_queue_depth",
    "atelier_queue_oldest_age_seconds",
    "atelier_queue_running",
    "atelier_task_results",
    "atelier_task_duration_seconds",
    "atelier_jobs",
    # generation
    "atelier_training_images_per_second",
    "atelier_generation_images_per_second",
    "atelier_onnxruntime_provider_in_use",
    "atelier_onnxruntime_gpu_in_use",
    "atelier_onnxruntime_fallback",
    # chain and provenance
    "atelier_chain_up",
    "atelier_chain_head_block",
    "atelier_chain_head_lag_seconds",
    "atelier_provenance_records",
    "atelier_provenance_unconfirmed_oldest_age_seconds",
    "atelier_chain_batch_unconfirmed_oldest_age_seconds",
    "atelier_chain_gas_spent",
    # webhooks
    "atelier_webhook_deliveries",
    "atelier_webhook_failed_attempts",
}


@task(queue_name="default")
def _noted_task() -> str:
    logging.getLogger("atelier.test").info("inside the task")
    return current_request_id.get()


def _families(client, **extra):
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def test_every_named_metric_is_exposed_and_parses(client, settings):
    settings.CHAIN_RPC_URL = "http://127.0.0.1:9"  # nothing listens: the chain is reported down, not an error
    client.get("/healthz")
    _noted_task.enqueue()
    families = _families(client)
    # the parser strips _total from counter names
    names = set(families) | {f"{name}_total" for name in families}
    missing = EXPECTED - names
    assert not missing, missing
    depth = {sample.labels["queue"]: sample.value for sample in families["atelier_queue_depth"].samples}
    assert depth["default"] >= 1
    chain_up = families["atelier_chain_up"].samples[0].value
    assert chain_up == 0
    requests_seen = [
        sample
        for sample in families["django_http_requests_total_by_view_transport_method"].samples
        if sample.labels.get("view") == "healthz"
    ]
    assert requests_seen and requests_seen[0].value >= 1
    errors = {s.labels["collector"]: s.value for s in families["atelier_metrics_collector_errors"].samples}
    assert errors and set(errors.values()) == {0.0}


def test_metrics_are_hidden_from_other_addresses_unless_they_bring_the_token(client, settings):
    settings.METRICS_TOKEN = "a-long-scrape-token-for-prometheus"
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong-token").status_code == 404
    assert (
        client.get(
            "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer a-long-scrape-token-for-prometheus"
        ).status_code
        == 200
    )
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics").status_code == 404  # loopback too, once the allow-list is empty
    assert client.post("/metrics", HTTP_AUTHORIZATION="Bearer a-long-scrape-token-for-prometheus").status_code == 404


def test_a_request_id_is_answered_and_a_sane_one_offered_is_kept(client):
    fresh = client.get("/healthz")[HEADER]
    assert len(fresh) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="trace-1234-abcd")[HEADER] == "trace-1234-abcd"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")[HEADER] != "bad id\nwith newline"


def test_the_request_id_travels_into_the_task_it_enqueues(run_tasks):
    token = current_request_id.set("req-from-the-api-call")
    try:
        result = _noted_task.enqueue()
    finally:
        current_request_id.reset(token)
    stored = DBTaskResult.objects.get(id=result.id).args_kwargs
    assert stored["request_id"] == "req-from-the-api-call" and stored["args"] == [] and stored["kwargs"] == {}
    assert run_tasks() == 1
    assert DBTaskResult.objects.get(id=result.id).return_value == "req-from-the-api-call"
    assert current_request_id.get() == ""  # and it does not leak into whatever runs next


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord("atelier.test", logging.WARNING, __file__, 1, "paid %s", ("order-1",), None)
    token = current_request_id.set("req-42-abcdefgh")
    try:
        RequestIdFilter().filter(record)
    finally:
        current_request_id.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "paid order-1" and line["level"] == "WARNING"
    assert line["request_id"] == "req-42-abcdefgh" and line["logger"] == "atelier.test"


def test_every_alert_rule_watches_a_metric_we_export():
    import re
    from pathlib import Path

    import yaml

    rules = yaml.safe_load((Path(__file__).resolve().parents[2] / "deploy/prometheus/alerts.yml").read_text())
    exported = EXPECTED | {"atelier_metrics_collector_errors_total"}
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {
        "AtelierQueueStuck",
        "AtelierChainUnreachable",
        "AtelierConfirmationsLagging",
        "AtelierGpuSilentlyGone",
    } <= {rule["alert"] for rule in alerts}
    for rule in alerts:
        names = set(re.findall(r"\b((?:atelier|django)_[a-z_]+)", rule["expr"]))
        assert names and names <= exported, (rule["alert"], names - exported)
