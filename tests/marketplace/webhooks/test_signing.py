import base64
import hashlib
import hmac
import json
import time

import pytest

from marketplace.webhooks.signing import (
    WebhookVerificationError,
    new_secret,
    secret_key,
    sign,
    signature_header,
    verify_signature,
)

BODY = json.dumps({"id": "evt_1", "type": "order.paid", "data": {"amount": 1200}}).encode()


def signed_headers(
    secret: str,
    *,
    msg_id: str = "msg_1",
    timestamp: int | None = None,
    body: bytes = BODY,
    extra_secrets: tuple[str, ...] = (),
) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets_=[secret, *extra_secrets], msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }


def test_secret_is_whsec_prefixed_base64_of_24_random_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(secret_key(secret)) == 24
    assert new_secret() != secret


def test_signature_is_hmac_sha256_of_id_timestamp_and_body_as_the_standard_says():
    secret = "whsec_" + base64.b64encode(b"k" * 24).decode()
    expected = base64.b64encode(hmac.new(b"k" * 24, b"msg_1.1700000000." + BODY, hashlib.sha256).digest()).decode()
    assert sign(secret=secret, msg_id="msg_1", timestamp=1700000000, body=BODY) == f"v1,{expected}"


def test_valid_signature_verifies_and_returns_the_payload():
    secret = new_secret()
    assert verify_signature(secret, signed_headers(secret), BODY) == json.loads(BODY)


def test_header_names_are_case_insensitive_and_body_may_be_text():
    secret = new_secret()
    headers = {name.title(): value for name, value in signed_headers(secret).items()}
    assert verify_signature(secret, headers, BODY.decode())["type"] == "order.paid"


def test_wrong_secret_is_rejected():
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify_signature(new_secret(), signed_headers(new_secret()), BODY)


def test_tampered_body_is_rejected():
    secret = new_secret()
    tampered = BODY.replace(b"1200", b"1")
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify_signature(secret, signed_headers(secret), tampered)


def test_tampered_id_is_rejected():
    secret = new_secret()
    headers = signed_headers(secret) | {"webhook-id": "msg_2"}
    with pytest.raises(WebhookVerificationError):
        verify_signature(secret, headers, BODY)


def test_old_timestamp_is_rejected_as_a_replay():
    secret = new_secret()
    headers = signed_headers(secret, timestamp=int(time.time()) - 301)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_signature(secret, headers, BODY)
    assert verify_signature(secret, headers, BODY, tolerance=600)


def test_timestamp_from_the_future_is_rejected():
    secret = new_secret()
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_signature(secret, signed_headers(secret, timestamp=int(time.time()) + 3600), BODY)


def test_missing_header_is_rejected():
    secret = new_secret()
    headers = signed_headers(secret)
    del headers["webhook-signature"]
    with pytest.raises(WebhookVerificationError, match="webhook-signature"):
        verify_signature(secret, headers, BODY)


def test_during_rotation_either_secret_verifies_the_multi_signature_header():
    old, new = new_secret(), new_secret()
    headers = signed_headers(new, extra_secrets=(old,))
    assert len(headers["webhook-signature"].split()) == 2
    assert verify_signature(new, headers, BODY)
    assert verify_signature(old, headers, BODY)
    with pytest.raises(WebhookVerificationError):
        verify_signature(new_secret(), headers, BODY)
