"""Standard Webhooks signatures (https://www.standardwebhooks.com): secrets, signing, and verification.

Pure Python, no Django: `verify_signature` is what a receiver runs, and it can be copied into one.
The signed content is `f"{webhook-id}.{webhook-timestamp}.{body}"`, the key is the base64-decoded part of
`whsec_<base64>`, and `webhook-signature` carries space-separated `v1,<base64 HMAC-SHA256>` entries (several
while a secret is being rotated; any one that matches is enough).
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh webhook for this secret."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of `body`."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(*, secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(sign(secret=s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_)


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"missing {name} header")


def verify_signature(
    secret: str, headers: Mapping[str, str], body: bytes | str, tolerance: int = 300, *, now: float | None = None
) -> Any:
    """Check a received webhook and return its decoded JSON body; raise WebhookVerificationError if it is
    not signed with `secret`, or its timestamp is more than `tolerance` seconds from now (replays)."""
    if isinstance(body, str):
        body = body.encode()
    msg_id = _header(headers, "webhook-id")
    raw_timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not an integer") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance (a replay, or a wrong clock)")
    expected = sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body).encode()
    for candidate in signatures.split():
        version, _, _value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(candidate.encode(), expected):
            return json.loads(body)
    raise WebhookVerificationError("no matching signature")
