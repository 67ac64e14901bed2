"""Deliveries against a real HTTP receiver on 127.0.0.1: signatures, retries, give-up, redirects, timeouts,
redelivery, auto-disable, and the pinned connection."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from core.events import event_emit
from marketplace.webhooks import services
from marketplace.webhooks.models import WebhookDelivery, WebhookEndpoint
from marketplace.webhooks.signing import WebhookVerificationError, new_secret, verify_signature
from tests.marketplace.webhooks.helpers import Reply, release_deferred_tasks


@pytest.fixture(autouse=True)
def _local_receiver_allowed(private_ok):
    return private_ok


def deliver_event(user, run_tasks, *, type="order.paid", payload=None):
    event = event_emit(type=type, user=user, payload=payload or {"order_id": "o-1", "amount": 1200})
    services.webhook_events_fan_out()
    run_tasks()
    return event


def run_retries(run_tasks, times: int) -> None:
    for _ in range(times):
        release_deferred_tasks()
        run_tasks()


@pytest.mark.django_db
def test_delivery_is_signed_so_the_receiver_helper_verifies_it(user, receiver, run_tasks):
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    event = deliver_event(user, run_tasks)
    [request] = receiver.requests
    assert request.path == "/hooks"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == str(event.public_id)
    assert abs(int(request.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert request.headers["webhook-signature"].startswith("v1,")
    body = verify_signature(endpoint.secret, request.headers, request.body)
    assert body == {
        "id": str(event.public_id),
        "type": "order.paid",
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": {"order_id": "o-1", "amount": 1200},
    }
    delivery = endpoint.deliveries.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    attempt = delivery.attempt_log.get()
    assert attempt.succeeded and attempt.status_code == 200 and attempt.response_body == "ok"
    assert attempt.response_ms >= 0 and attempt.error == ""


@pytest.mark.django_db
def test_signature_fails_with_a_wrong_secret_a_tampered_body_or_an_old_timestamp(user, receiver, run_tasks):
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    deliver_event(user, run_tasks)
    [request] = receiver.requests
    with pytest.raises(WebhookVerificationError):
        verify_signature(new_secret(), request.headers, request.body)
    with pytest.raises(WebhookVerificationError):
        verify_signature(endpoint.secret, request.headers, request.body.replace(b"1200", b"1"))
    later = int(request.headers["webhook-timestamp"]) + 301
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_signature(endpoint.secret, request.headers, request.body, now=later)


@pytest.mark.django_db
def test_after_rotation_deliveries_carry_both_signatures_until_the_old_secret_expires(user, receiver, run_tasks):
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    old = endpoint.secret
    new = services.webhook_endpoint_rotate_secret(endpoint=endpoint).secret
    deliver_event(user, run_tasks)
    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split()) == 2
    assert verify_signature(old, request.headers, request.body)
    assert verify_signature(new, request.headers, request.body)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
    deliver_event(user, run_tasks, type="order.refunded")
    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split()) == 1
    with pytest.raises(WebhookVerificationError):
        verify_signature(old, request.headers, request.body)
    assert verify_signature(new, request.headers, request.body)


@pytest.mark.django_db
def test_500_is_retried_with_exponential_backoff_then_succeeds(user, receiver, run_tasks, settings):
    settings.WEBHOOK_BACKOFF_BASE = timedelta(seconds=30)
    receiver.reply(Reply(500, b"boom"), Reply(503, b"again"))
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    deliver_event(user, run_tasks)
    delivery = endpoint.deliveries.get()
    assert delivery.state == "queued" and delivery.attempts == 1 and delivery.last_error == "HTTP 500"
    first_wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert timedelta(seconds=29) <= first_wait <= timedelta(seconds=34)
    assert run_tasks() == 0  # the retry waits for its backoff
    run_retries(run_tasks, 1)
    delivery.refresh_from_db()
    second_wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert timedelta(seconds=4 * 30 - 1) <= second_wait <= timedelta(seconds=4 * 30 * 1.1 + 1)
    run_retries(run_tasks, 1)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("succeeded", 3, 200)
    attempts = list(delivery.attempt_log.values_list("number", "status_code", "response_body", "succeeded"))
    assert attempts == [(1, 500, "boom", False), (2, 503, "again", False), (3, 200, "ok", True)]
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one message, three tries
    for request in receiver.requests:
        verify_signature(endpoint.secret, request.headers, request.body)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.last_success_at is not None


@pytest.mark.django_db
def test_gives_up_after_five_attempts(user, receiver, run_tasks):
    receiver.default = Reply(500)
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    deliver_event(user, run_tasks)
    run_retries(run_tasks, 6)
    delivery = endpoint.deliveries.get()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 5, None)
    assert delivery.attempt_log.count() == 5 and len(receiver.requests) == 5
    assert delivery.finished_at is not None and delivery.last_error == "HTTP 500"


@pytest.mark.django_db
def test_retry_after_from_the_receiver_is_honoured(user, receiver, run_tasks):
    receiver.reply(Reply(429, headers={"Retry-After": "900"}))
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    deliver_event(user, run_tasks)
    delivery = endpoint.deliveries.get()
    assert delivery.next_attempt_at - delivery.last_attempt_at >= timedelta(seconds=899)


@pytest.mark.django_db
def test_redirect_is_not_followed_and_counts_as_a_failure(user, make_receiver, run_tasks):
    receiver, elsewhere = make_receiver(), make_receiver()
    receiver.reply(Reply(302, headers={"Location": elsewhere.url}), Reply(307, headers={"Location": elsewhere.url}))
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    deliver_event(user, run_tasks)
    delivery = endpoint.deliveries.get()
    assert delivery.state == "queued" and delivery.last_status_code == 302
    assert "redirects are not followed" in delivery.attempt_log.get().error
    assert len(receiver.requests) == 1 and elsewhere.requests == []


@pytest.mark.django_db
def test_slow_receiver_times_out_and_is_retried(user, receiver, run_tasks, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.reply(Reply(200, delay=2.0))
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    deliver_event(user, run_tasks)
    delivery = endpoint.deliveries.get()
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None and not attempt.succeeded
    assert "timed out" in attempt.error
    assert delivery.state == "queued"


@pytest.mark.django_db
def test_unreachable_receiver_is_a_failed_attempt(user, receiver, run_tasks):
    port = receiver.port
    receiver.close()
    endpoint = services.webhook_endpoint_create(owner=user, url=f"http://127.0.0.1:{port}/hooks")
    deliver_event(user, run_tasks)
    attempt = endpoint.deliveries.get().attempt_log.get()
    assert attempt.status_code is None and "refused" in attempt.error


@pytest.mark.django_db
def test_long_response_body_is_truncated_on_the_attempt(user, receiver, run_tasks):
    receiver.reply(Reply(500, b"x" * 100_000))
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    deliver_event(user, run_tasks)
    assert len(endpoint.deliveries.get().attempt_log.get().response_body) == 4096


@pytest.mark.django_db
def test_redeliver_through_the_api_starts_a_new_attempt_series(user, user_client, receiver, run_tasks):
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    deliver_event(user, run_tasks)
    delivery = endpoint.deliveries.get()
    response = user_client.post(f"/api/v1/webhook-deliveries/{delivery.public_id}/redeliver")
    assert response.status_code == 202
    assert response.json()["state"] == "queued" and response.json()["series"] == 2
    run_tasks()
    delivery.refresh_from_db()
    assert delivery.state == "succeeded" and delivery.attempts == 2
    assert list(delivery.attempt_log.values_list("number", "series")) == [(1, 1), (2, 2)]
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.msg_id] * 2
    detail = user_client.get(f"/api/v1/webhook-deliveries/{delivery.public_id}").json()
    assert [a["series"] for a in detail["attempts"]] == [1, 2]
    assert detail["payload"]["type"] == "order.paid"


@pytest.mark.django_db
def test_redeliver_of_a_failed_delivery_gets_a_fresh_budget_of_attempts(user, receiver, run_tasks):
    receiver.default = Reply(500)
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    deliver_event(user, run_tasks)
    run_retries(run_tasks, 5)
    delivery = endpoint.deliveries.get()
    assert delivery.state == "failed"
    receiver.default = Reply(200)
    services.webhook_delivery_redeliver(delivery=delivery)
    run_tasks()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.series) == ("succeeded", 6, 2)


@pytest.mark.django_db
def test_redeliver_while_a_retry_is_pending_is_409(user, user_client, receiver, run_tasks):
    receiver.reply(500)
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    deliver_event(user, run_tasks)
    delivery = endpoint.deliveries.get()
    response = user_client.post(f"/api/v1/webhook-deliveries/{delivery.public_id}/redeliver")
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    assert WebhookDelivery.objects.get(pk=delivery.pk).series == 1


@pytest.mark.django_db
def test_test_event_is_delivered_and_verifies(user, user_client, receiver, run_tasks):
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url, events=["order.paid"])
    user_client.post(f"/api/v1/webhooks/{endpoint.public_id}/test")
    run_tasks()
    [request] = receiver.requests
    body = verify_signature(endpoint.secret, request.headers, request.body)
    assert body["type"] == "webhook.test" and body["data"]["endpoint_id"] == str(endpoint.public_id)
    listed = user_client.get(f"/api/v1/webhooks/{endpoint.public_id}/deliveries").json()["results"]
    assert [(d["event_type"], d["state"], d["last_status_code"]) for d in listed] == [
        ("webhook.test", "succeeded", 200)
    ]


@pytest.mark.django_db
def test_endpoint_is_disabled_after_consecutive_failures_and_owner_is_told(user, make_receiver, run_tasks, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOK_DISABLE_FAILING_FOR = timedelta(0)
    broken, ops = make_receiver(), make_receiver()
    broken.default = Reply(500)
    endpoint = services.webhook_endpoint_create(owner=user, url=broken.url, events=["order.*"])
    services.webhook_endpoint_create(owner=user, url=ops.url, events=["webhook_endpoint.*"])
    deliver_event(user, run_tasks)
    run_retries(run_tasks, 4)
    endpoint.refresh_from_db()
    assert endpoint.is_active is False and endpoint.disabled_reason == "failing"
    assert "3 consecutive failed attempts" in endpoint.disabled_detail and "HTTP 500" in endpoint.disabled_detail
    assert len(broken.requests) == 3  # nothing more is sent once it is disabled
    delivery = endpoint.deliveries.get()
    assert delivery.state == "failed" and "disabled" in delivery.last_error
    services.webhook_events_fan_out()
    run_tasks()
    [notice] = ops.requests
    assert json.loads(notice.body)["type"] == "webhook_endpoint.disabled"
    assert json.loads(notice.body)["data"]["endpoint_id"] == str(endpoint.public_id)
    deliver_event(user, run_tasks, type="order.refunded")  # a disabled endpoint gets no new deliveries
    assert endpoint.deliveries.count() == 1


@pytest.mark.django_db
def test_a_short_burst_of_failures_does_not_disable_the_endpoint(user, receiver, run_tasks, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3  # reached, but the endpoint has not been failing for days
    receiver.default = Reply(500)
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    deliver_event(user, run_tasks)
    run_retries(run_tasks, 5)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 5


@pytest.mark.django_db
def test_success_resets_the_failure_streak(user, receiver, run_tasks):
    receiver.reply(500, 500)
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    deliver_event(user, run_tasks)
    run_retries(run_tasks, 1)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 2 and endpoint.failing_since is not None
    run_retries(run_tasks, 1)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.failing_since is None


@pytest.mark.django_db
def test_connection_goes_to_the_vetted_address_with_the_original_host_header(user, receiver, run_tasks, fake_dns):
    # The name exists only in the guard's resolver: the request can only arrive if the socket went to the
    # vetted address, and the receiver still sees the URL's host name.
    fake_dns["hooks.atelier.test"] = [["127.0.0.1"]]
    endpoint = services.webhook_endpoint_create(owner=user, url=f"http://hooks.atelier.test:{receiver.port}/in")
    deliver_event(user, run_tasks)
    [request] = receiver.requests
    assert request.headers["host"] == f"hooks.atelier.test:{receiver.port}" and request.path == "/in"
    assert endpoint.deliveries.get().state == "succeeded"


@pytest.mark.django_db
def test_deleted_endpoint_leaves_queued_tasks_with_nothing_to_do(user, receiver, run_tasks):
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    event_emit(type="order.paid", user=user, payload={})
    services.webhook_events_fan_out()
    services.webhook_endpoint_delete(endpoint=endpoint)
    assert run_tasks() == 1
    assert receiver.requests == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_delivery_task_run_twice_at_once_sends_once(make_user, receiver, settings):
    import threading

    from django.db import connection

    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    receiver.reply(Reply(200, delay=0.3))
    endpoint = services.webhook_endpoint_create(owner=make_user(), url=receiver.url)
    delivery = services.webhook_endpoint_send_test(endpoint=endpoint)
    barrier = threading.Barrier(2)
    outcomes = []

    def work():
        try:
            barrier.wait()
            outcomes.append(services.webhook_delivery_attempt(delivery_pk=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["skipped", "succeeded"]
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempt_log.count() == 1
