"""HTTP glue for idempotency keys: a DRF view mixin honouring `Idempotency-Key` on POST (Stripe semantics).

The first response (status and body) is stored per user and key; a replay returns it with
`Idempotent-Replayed: true`; the same key with a different request is 422; a request still in flight is 409.
Responses that mean "nothing was executed" (400 validation, 401, 403, 429, 5xx) are not stored, so the client
can fix the request and retry with the same key.

A view whose response carries a secret shown once (an API key, a webhook signing secret) names those fields in
`secret_fields`: the record keeps the response without them, and a replay is a 409 naming the resource that the
first request made — a secret is never written to the idempotency table, nor handed to whoever holds the key.
"""

import hashlib
import json
from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import PROBLEM_CONTENT_TYPE, CommonError, Conflict
from core.services import idempotency_abandon, idempotency_begin, idempotency_complete, request_fingerprint

HEADER = "Idempotency-Key"
NOT_EXECUTED_STATUSES = {400, 401, 403, 429}


class _Replay(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _payload_digest(request: Request) -> Any:
    """A canonical form of the request body: parsed data, and uploaded files by content hash."""
    data = request.data
    files = {}
    for name in getattr(request, "FILES", {}) or {}:
        digests = []
        for upload in request.FILES.getlist(name):
            sha = hashlib.sha256()
            for chunk in upload.chunks():
                sha.update(chunk)
            upload.seek(0)
            digests.append(sha.hexdigest())
        files[name] = digests
    if hasattr(data, "lists"):
        fields = {key: values for key, values in data.lists() if key not in files}
    else:
        fields = data
    return {"data": fields, "files": files}


def _secret_not_replayable(stored: Any) -> Conflict:
    resource = stored.get("id") if isinstance(stored, dict) else None
    return Conflict(
        "The first request with this Idempotency-Key succeeded; its secret was shown once and is "
        "not kept, so it cannot be replayed. Revoke or rotate that one if it was lost.",
        code=CommonError.IDEMPOTENT_SECRET_NOT_REPLAYABLE,
        resource=resource,
    )


class IdempotentMixin:
    """Mix into a DRF view before the base class: `class V(IdempotentMixin, generics.CreateAPIView)`."""

    _idempotency_record = None
    secret_fields: tuple[str, ...] = ()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or not request.user.is_authenticated:
            return
        fingerprint = request_fingerprint(method=request.method, path=request.path, payload=_payload_digest(request))
        outcome = idempotency_begin(
            user=request.user, key=key, method=request.method, path=request.path, fingerprint=fingerprint
        )
        if outcome.record is None:
            if self.secret_fields:
                raise _secret_not_replayable(outcome.replay_body)
            response = Response(
                outcome.replay_body,
                status=outcome.replay_status,
                headers={"Idempotent-Replayed": "true"},
                content_type=PROBLEM_CONTENT_TYPE if outcome.replay_status >= 400 else None,
            )
            raise _Replay(response)
        self._idempotency_record = outcome.record

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency_record = self._idempotency_record, None
        if record is None:
            return response
        if response.status_code >= 500 or response.status_code in NOT_EXECUTED_STATUSES:
            idempotency_abandon(record=record)
        else:
            body = json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
            if self.secret_fields and isinstance(body, dict):
                body = {name: value for name, value in body.items() if name not in self.secret_fields}
            idempotency_complete(record=record, status=response.status_code, body=body)
        return response
