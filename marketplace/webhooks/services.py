"""Webhook writes: endpoints, the fan-out of domain events into deliveries, delivery attempts, redelivery.

Nothing here opens a network connection inside a transaction: URLs are vetted (DNS) before the write that
stores them, and the HTTP POST of an attempt happens between claiming the delivery and recording the outcome.
"""

import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core.errors import Conflict, InvalidInput, InvalidTransition
from core.events import event_emit
from core.jobs import JobState, job_enqueue, job_start
from core.models import DomainEvent
from marketplace.webhooks import conf, locks, signing, ssrf, transport
from marketplace.webhooks.errors import WebhookError
from marketplace.webhooks.models import DisabledReason, WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from marketplace.webhooks.patterns import event_type_matches, normalise_patterns

TEST_EVENT_TYPE = "webhook.test"
DISABLED_EVENT_TYPE = "webhook_endpoint.disabled"
MAX_ROTATION_GRACE = timedelta(days=7)
BULK_MARK_LIMIT = 5000


class EndpointDisabled(Conflict):
    code, title = WebhookError.WEBHOOK_ENDPOINT_DISABLED, "Webhook endpoint disabled"


# --- endpoints -------------------------------------------------------------------------------------------


def _vetted_url(url: str) -> str:
    try:
        ssrf.vet_url(url)
    except ssrf.UnsafeURL as exc:
        raise InvalidInput(str(exc), field="url", code=WebhookError.UNSAFE_URL) from None
    return url


def _valid_events(events: list[str]) -> list[str]:
    try:
        return normalise_patterns(events)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="events") from None


def webhook_endpoint_create(
    *, owner: Any, url: str, events: list[str] | None = None, description: str = ""
) -> WebhookEndpoint:
    """Register an endpoint; its `secret` is readable on the returned row (show it once)."""
    url = _vetted_url(url)  # DNS: before the transaction, never inside it
    patterns = _valid_events(["*"] if events is None else events)
    with transaction.atomic():
        # The owner's row serialises concurrent creates, so the per-user limit holds under races.
        locks.lock_owner(owner.pk)
        if WebhookEndpoint.objects.filter(owner=owner).count() >= conf.get("WEBHOOK_MAX_ENDPOINTS_PER_USER"):
            raise Conflict(
                f"At most {conf.get('WEBHOOK_MAX_ENDPOINTS_PER_USER')} webhook endpoints per account.",
                code=WebhookError.WEBHOOK_ENDPOINT_LIMIT,
            )
        return WebhookEndpoint.objects.create(
            owner=owner, url=url, events=patterns, description=description, secret=signing.new_secret()
        )


def _disable(endpoint: WebhookEndpoint, *, reason: str, detail: str, now: datetime) -> None:
    endpoint.is_active, endpoint.disabled_at = False, now
    endpoint.disabled_reason, endpoint.disabled_detail = reason, detail[:500]


def _enable(endpoint: WebhookEndpoint) -> None:
    endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason, endpoint.disabled_detail = True, None, "", ""
    endpoint.consecutive_failures, endpoint.failing_since = 0, None


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given (None: unchanged). `active=True` re-enables a disabled endpoint and clears its
    failure streak; `active=False` disables it by hand."""
    url = _vetted_url(url) if url is not None else None
    patterns = _valid_events(events) if events is not None else None
    with transaction.atomic():
        locked = locks.lock_endpoint(endpoint.pk)
        if url is not None:
            locked.url = url
        if patterns is not None:
            locked.events = patterns
        if description is not None:
            locked.description = description
        if active is True and not locked.is_active:
            _enable(locked)
        elif active is False and locked.is_active:
            _disable(locked, reason=DisabledReason.MANUAL, detail="Disabled by its owner.", now=timezone.now())
        locked.save()
    return locked


def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, detail: str = "Disabled by staff.") -> WebhookEndpoint:
    with transaction.atomic():
        locked = locks.lock_endpoint(endpoint.pk)
        if locked.is_active:
            _disable(locked, reason=DisabledReason.MANUAL, detail=detail, now=timezone.now())
            locked.save()
    return locked


def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return webhook_endpoint_update(endpoint=endpoint, active=True)


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its delivery log; queued delivery tasks then find nothing to do."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()


def webhook_endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, previous_secret_expires_in: timedelta = conf.SECRET_ROTATION_GRACE
) -> WebhookEndpoint:
    """A new secret; the old one keeps signing next to it for `previous_secret_expires_in` (0: revoke it now,
    e.g. after a leak), so receivers can switch without dropping a message."""
    if not timedelta(0) <= previous_secret_expires_in <= MAX_ROTATION_GRACE:
        raise InvalidInput("Keep the previous secret for 0 seconds to 7 days.", field="previous_secret_expires_in")
    with transaction.atomic():
        locked = locks.lock_endpoint(endpoint.pk)
        if previous_secret_expires_in > timedelta(0):
            locked.previous_secret = locked.secret
            locked.previous_secret_expires_at = timezone.now() + previous_secret_expires_in
        else:
            locked.previous_secret, locked.previous_secret_expires_at = "", None
        locked.secret = signing.new_secret()
        locked.save()
    return locked


def _message(*, msg_id: str, type: str, created_at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    stamp = created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {"id": msg_id, "type": type, "created_at": stamp, "data": data}


def webhook_endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a `webhook.test` message to this endpoint only (whatever its event filter)."""
    if not endpoint.is_active:
        raise EndpointDisabled("Enable the endpoint before sending it a test event.")
    msg_id = str(uuid.uuid4())
    body = _message(
        msg_id=msg_id,
        type=TEST_EVENT_TYPE,
        created_at=timezone.now(),
        data={"endpoint_id": str(endpoint.public_id), "message": "A test event from Atelier."},
    )
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            msg_id=msg_id,
            event_type=TEST_EVENT_TYPE,
            payload=body,
            max_attempts=conf.get("WEBHOOK_MAX_ATTEMPTS"),
        )
        job_enqueue(job=delivery)
    return delivery


# --- fan-out ---------------------------------------------------------------------------------------------


def _fan_out_one(*, event_pk: int) -> int:
    with transaction.atomic():
        event = (
            DomainEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_pk, dispatched_at__isnull=True)
            .first()
        )
        if event is None:  # done already, or another fan-out holds it right now
            return 0
        endpoints = (
            WebhookEndpoint.objects.filter(
                owner_id=event.user_id, is_active=True, created_at__lte=event.created_at
            ).order_by("pk")
            if event.user_id
            else WebhookEndpoint.objects.none()
        )
        done = set(WebhookDelivery.objects.filter(event=event).values_list("endpoint_id", flat=True))
        body = _message(msg_id=str(event.public_id), type=event.type, created_at=event.created_at, data=event.payload)
        created = 0
        for endpoint in endpoints:
            if endpoint.pk in done or not event_type_matches(endpoint.events, event.type):
                continue
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint,
                event=event,
                msg_id=body["id"],
                event_type=event.type,
                payload=body,
                max_attempts=conf.get("WEBHOOK_MAX_ATTEMPTS"),
            )
            job_enqueue(job=delivery)  # the task row commits with the delivery (outbox)
            created += 1
        DomainEvent.objects.filter(pk=event.pk).update(dispatched_at=timezone.now())
    return created


def webhook_events_fan_out(*, event_ids: list[int] | None = None, limit: int = 500) -> int:
    """Turn undispatched domain events (these, or the oldest `limit`) into deliveries, one per matching active
    endpoint of the event's user, and mark them dispatched. Repeating it creates nothing twice.
    Returns the number of deliveries created."""
    pending = DomainEvent.objects.filter(dispatched_at__isnull=True)
    if event_ids is not None:
        pending = pending.filter(pk__in=event_ids)
    # Events nobody listens to are marked in bulk instead of one transaction each (rows another fan-out holds
    # are skipped, not waited for).
    listeners = WebhookEndpoint.objects.filter(owner_id=OuterRef("user_id"), is_active=True)
    with transaction.atomic():
        unheard = list(
            pending.filter(Q(user__isnull=True) | ~Exists(listeners))
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:BULK_MARK_LIMIT]
        )
        DomainEvent.objects.filter(pk__in=unheard).update(dispatched_at=timezone.now())
    pks = list(pending.order_by("pk").values_list("pk", flat=True)[:limit])
    return sum(_fan_out_one(event_pk=pk) for pk in pks)


# --- attempts --------------------------------------------------------------------------------------------


def _retry_delay(*, attempt_in_series: int, retry_after_seconds: int | None) -> timedelta:
    delay = conf.get("WEBHOOK_BACKOFF_BASE") * (conf.BACKOFF_FACTOR ** max(attempt_in_series - 1, 0))
    delay *= 1 + random.uniform(0, 0.1)  # jitter: retries after an outage do not all arrive at once
    if retry_after_seconds:
        delay = max(delay, timedelta(seconds=retry_after_seconds))
    return min(delay, conf.MAX_BACKOFF)


def _failure_text(result: transport.SendResult) -> str:
    if result.error:
        return result.error
    if result.status_code is not None and 300 <= result.status_code < 400:
        return f"HTTP {result.status_code} (redirects are not followed)"
    return f"HTTP {result.status_code}"


def _should_disable(endpoint: WebhookEndpoint, *, now: datetime) -> bool:
    return (
        endpoint.is_active
        and endpoint.consecutive_failures >= conf.get("WEBHOOK_DISABLE_AFTER_FAILURES")
        and endpoint.failing_since is not None
        and now - endpoint.failing_since >= conf.get("WEBHOOK_DISABLE_FAILING_FOR")
    )


def _record_attempt(*, delivery: WebhookDelivery, result: transport.SendResult, started_at: datetime) -> str:
    now = timezone.now()
    with transaction.atomic():
        # Lock order everywhere: endpoint, then delivery. NO KEY UPDATE: fan-outs may still insert deliveries.
        endpoint = locks.lock_endpoint_if_any(delivery.endpoint_id)
        locked = locks.lock_delivery_if_any(delivery.pk)
        if endpoint is None or locked is None:  # deleted while we were sending
            return "skipped"
        WebhookDeliveryAttempt.objects.create(
            delivery=locked,
            number=locked.attempts,
            series=locked.series,
            created_at=started_at,
            succeeded=result.ok,
            status_code=result.status_code,
            response_ms=result.response_ms,
            response_body=result.response_body,
            error="" if result.ok else _failure_text(result)[:1000],
        )
        locked.last_status_code, locked.last_attempt_at = result.status_code, now
        if result.ok:
            endpoint.consecutive_failures, endpoint.failing_since, endpoint.last_success_at = 0, None, now
        else:
            endpoint.consecutive_failures += 1
            endpoint.failing_since = endpoint.failing_since or now
            endpoint.last_failure_at = now
        if locked.state != JobState.RUNNING:
            pass  # the sweeper took it back while we were sending: it owns the state now
        elif result.ok:
            locked.state, locked.finished_at, locked.next_attempt_at, locked.last_error = (
                JobState.SUCCEEDED,
                now,
                None,
                "",
            )
        else:
            locked.last_error = _failure_text(result)
            in_series = WebhookDeliveryAttempt.objects.filter(delivery=locked, series=locked.series).count()
            if locked.attempts < locked.max_attempts:
                locked.state = JobState.QUEUED
                locked.next_attempt_at = now + _retry_delay(
                    attempt_in_series=in_series, retry_after_seconds=result.retry_after_seconds
                )
            else:
                locked.state, locked.finished_at, locked.next_attempt_at = JobState.FAILED, now, None
        if not result.ok and _should_disable(endpoint, now=now):
            detail = (
                f"Disabled after {endpoint.consecutive_failures} consecutive failed attempts since "
                f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC; last: {_failure_text(result)}"
            )
            _disable(endpoint, reason=DisabledReason.FAILING, detail=detail, now=now)
            event_emit(
                type=DISABLED_EVENT_TYPE,
                user=endpoint.owner,
                payload={
                    "endpoint_id": str(endpoint.public_id),
                    "url": endpoint.url,
                    "reason": DisabledReason.FAILING.value,
                    "detail": endpoint.disabled_detail,
                },
            )
        endpoint.save()
        locked.save()
        if locked.state == JobState.QUEUED:
            job_enqueue(job=locked, run_after=locked.next_attempt_at)
    return str(locked.state)


def _fail_without_attempt(*, delivery_pk: int, error: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery_pk, state=JobState.QUEUED).update(
        state=JobState.FAILED, finished_at=timezone.now(), next_attempt_at=None, last_error=error
    )


def webhook_delivery_attempt(*, delivery_pk: int) -> str:
    """Make one attempt of a queued delivery (the delivery task's body); returns the delivery's new state,
    or "skipped" when there is nothing to do (done, running elsewhere, deleted)."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_pk).first()
    if delivery is None:
        return "skipped"
    if not delivery.endpoint.is_active:
        _fail_without_attempt(delivery_pk=delivery_pk, error="Not sent: the endpoint is disabled.")
        return "endpoint_disabled"
    claimed = job_start(model=WebhookDelivery, pk=delivery_pk)
    if claimed is None:
        return "skipped"
    endpoint = WebhookEndpoint.objects.filter(pk=claimed.endpoint_id).first()
    if endpoint is None:
        return "skipped"
    body = json.dumps(claimed.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(time.time())
    headers = {
        "webhook-id": claimed.msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature_header(
            secrets_=endpoint.signing_secrets(), msg_id=claimed.msg_id, timestamp=timestamp, body=body
        ),
    }
    started_at = timezone.now()
    result = transport.post(url=endpoint.url, body=body, headers=headers)
    return _record_attempt(delivery=claimed, result=result, started_at=started_at)


def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a finished delivery again, as a new series of attempts (same webhook-id, so receivers that
    deduplicate recognise it)."""
    with transaction.atomic():
        endpoint = locks.lock_endpoint(delivery.endpoint_id)
        locked = locks.lock_delivery(delivery.pk)
        if not endpoint.is_active:
            raise EndpointDisabled("Enable the endpoint before redelivering to it.")
        if locked.state in (JobState.QUEUED, JobState.RUNNING):
            raise InvalidTransition(entity="webhook delivery", state=locked.state, action="redeliver")
        locked.series += 1
        locked.state, locked.finished_at, locked.next_attempt_at = JobState.QUEUED, None, None
        locked.cancel_requested, locked.last_error = False, ""
        locked.max_attempts = locked.attempts + conf.get("WEBHOOK_MAX_ATTEMPTS")
        locked.save()
        job_enqueue(job=locked)
    return locked
