"""Core write services: idempotency keys."""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import CommonError, Conflict, InvalidInput, Unprocessable
from core.models import IdempotencyKey

# A request still "in flight" after this long died with its process; its key may be taken over.
IN_FLIGHT_ABANDONED_AFTER = timedelta(minutes=5)
MAX_KEY_LENGTH = 255
IDEMPOTENCY_KEY_PATTERN = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}")  # printable ASCII


@dataclass(frozen=True)
class IdempotencyOutcome:
    """Either a key this request now owns (`record`), or a stored response to replay."""

    record: IdempotencyKey | None = None
    replay_status: int | None = None
    replay_body: Any = None


def request_fingerprint(*, method: str, path: str, payload: Any) -> str:
    canonical = json.dumps({"method": method, "path": path, "payload": payload}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_begin(
    *, user: Any, key: str, method: str, path: str, fingerprint: str, _attempt: int = 0
) -> IdempotencyOutcome:
    if not IDEMPOTENCY_KEY_PATTERN.fullmatch(key or ""):
        raise InvalidInput(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters.", field="Idempotency-Key")
    now = timezone.now()
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(
                user=user,
                key=key,
                request_fingerprint=fingerprint,
                method=method,
                path=path,
                expires_at=now + settings.IDEMPOTENCY_KEY_TTL,
            )
        return IdempotencyOutcome(record=record)
    except IntegrityError:
        pass
    existing = IdempotencyKey.objects.filter(user=user, key=key).first()
    if existing is None or existing.expires_at <= now:
        # expired, or its holder abandoned it (idempotency_abandon) between our insert and this read: take it
        if existing is not None:
            existing.delete()
        if _attempt >= 3:
            raise Conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                code=CommonError.IDEMPOTENCY_KEY_IN_FLIGHT,
            )
        return idempotency_begin(
            user=user, key=key, method=method, path=path, fingerprint=fingerprint, _attempt=_attempt + 1
        )
    if existing.request_fingerprint != fingerprint:
        raise Unprocessable(
            "This Idempotency-Key was already used with a different request; use a new key.",
            code=CommonError.IDEMPOTENCY_KEY_REUSED,
        )
    if existing.state == IdempotencyKey.State.COMPLETED:
        return IdempotencyOutcome(replay_status=existing.response_status, replay_body=existing.response_body)
    if existing.created_at < now - IN_FLIGHT_ABANDONED_AFTER:
        taken = IdempotencyKey.objects.filter(
            pk=existing.pk, state=IdempotencyKey.State.IN_FLIGHT, created_at=existing.created_at
        ).update(created_at=now)
        if taken:
            existing.refresh_from_db()
            return IdempotencyOutcome(record=existing)
    raise Conflict(
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        code=CommonError.IDEMPOTENCY_KEY_IN_FLIGHT,
    )


def idempotency_complete(*, record: IdempotencyKey, status: int, body: Any) -> None:
    IdempotencyKey.objects.filter(pk=record.pk).update(
        state=IdempotencyKey.State.COMPLETED, response_status=status, response_body=body
    )


def idempotency_abandon(*, record: IdempotencyKey) -> None:
    """The request did not execute (validation, auth, throttle, server error): the key may be retried."""
    IdempotencyKey.objects.filter(pk=record.pk, state=IdempotencyKey.State.IN_FLIGHT).delete()


def idempotency_keys_prune() -> int:
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
