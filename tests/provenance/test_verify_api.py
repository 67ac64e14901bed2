"""The public verification API: clear 4xx for bad input, public access, throttling, degraded chain reads."""

import uuid

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.throttling import ScopedRateThrottle

from provenance.chain.anvil import free_port
from provenance.models import AnchorState, ProvenanceRecord, RecordState, TxState
from provenance.services import batch_build
from tests.provenance.helpers import image_bytes

pytestmark = pytest.mark.django_db


def upload(data: bytes, name: str = "art.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["detail"]
    return body


@pytest.mark.parametrize("bad", ["abc", "g" * 64, "a" * 63, "a" * 65, "0x" + "a" * 63])
def test_malformed_hash_is_400_with_a_reason(api, bad):
    body = problem(api.get(f"/api/v1/verify/{bad}"), 400, "invalid_sha256")
    assert "64 hexadecimal" in body["detail"]


def test_unknown_hash_is_404(api):
    problem(api.get(f"/api/v1/verify/{'ab' * 32}"), 404, "not_registered")


def test_a_pending_record_is_found_and_reported_not_anchored(api, register_image):
    record, _ = register_image(5)
    response = api.get(f"/api/v1/verify/0x{record.content_sha256.upper()}")
    assert response.status_code == 200
    match = response.json()["match"]
    assert match["record"]["state"] == "pending" and match["anchor"] is None
    assert match["chain_check"]["status"] == "not_anchored"
    assert match["owner_history"] == [
        {
            "kind": "registered",
            "from_ref": None,
            "to_ref": "accounts.user:owner",
            "at": match["record"]["registered_at"],
            "state": "pending",
            "transaction_hash": None,
            "block_number": None,
        }
    ]


def test_verification_is_public_even_with_a_bad_token(api, register_image):
    record, _ = register_image(5)
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert api.get(f"/api/v1/verify/{record.content_sha256}").status_code == 200


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"hello, I am text", "only PNG, JPEG and WEBP"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "an SVG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "truncated"),
    ],
)
def test_non_image_uploads_are_400_with_the_reason(api, data, reason):
    body = problem(api.post("/api/v1/verify", {"file": upload(data)}, format="multipart"), 400, "invalid_image")
    assert reason in body["detail"]


def test_missing_empty_or_extra_fields_are_400_naming_them(api):
    assert "file" in problem(api.post("/api/v1/verify", {}, format="multipart"), 400, "invalid")["errors"]
    assert (
        "file"
        in problem(api.post("/api/v1/verify", {"file": upload(b"")}, format="multipart"), 400, "invalid")["errors"]
    )
    body = problem(
        api.post("/api/v1/verify", {"file": upload(image_bytes(1)), "owner": "me"}, format="multipart"), 400, "invalid"
    )
    assert "owner" in body["errors"]


def test_a_json_body_is_415(api):
    assert api.post("/api/v1/verify", {"file": "x"}, format="json").status_code == 415


def test_huge_upload_is_413_before_it_is_read(api):
    huge = b"\x89PNG\r\n\x1a\n" + b"\x00" * (26 * 1024 * 1024)
    body = problem(api.post("/api/v1/verify", {"file": upload(huge)}, format="multipart"), 413, "payload_too_large")
    assert "limit" in body["detail"]


def test_upload_over_the_configured_limit_is_413(api, settings):
    raw = image_bytes(2)
    settings.PROVENANCE_VERIFY_MAX_BYTES = len(raw) - 1
    problem(api.post("/api/v1/verify", {"file": upload(raw)}, format="multipart"), 413, "payload_too_large")


def test_an_unregistered_image_has_no_match_but_a_full_query(api):
    response = api.post("/api/v1/verify", {"file": upload(image_bytes(9))}, format="multipart")
    assert response.status_code == 200
    body = response.json()
    assert body["match"] is None and body["perceptual_matches"] == [] and len(body["query"]["pdq"]) == 64
    assert body["perceptual_matching"] == "ok"


def test_the_exact_match_uses_the_original_bytes_not_the_re_encoded_ones(api, register_image):
    record, raw = register_image(4)
    body = api.post("/api/v1/verify", {"file": upload(raw)}, format="multipart").json()
    assert body["query"]["sha256"] == record.content_sha256
    assert body["match"]["record"]["id"] == str(record.public_id)


def test_hash_lookup_lists_the_records_perceptual_neighbours(api, register_image):
    from bench.synthetic_images import encode_jpeg, synthetic_image
    from provenance.services import hash_file, record_register

    record, _ = register_image(6)
    copy = encode_jpeg(synthetic_image(6), quality=50)
    hashes = hash_file(raw=copy)
    twin = record_register(
        content_sha256=hashes.sha256,
        pdq=hashes.pdq,
        pdq_quality=hashes.pdq_quality,
        subject="gallery.artwork:copy",
        creator="accounts.user:copier",
        owner="accounts.user:c",
    )
    register_image(7)  # an unrelated picture
    body = api.get(f"/api/v1/verify/{record.content_sha256}").json()
    assert [m["record"]["id"] for m in body["perceptual_matches"]] == [str(twin.public_id)]


def test_verification_is_throttled(api, register_image, monkeypatch):
    record, _ = register_image(5)
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"verify": "2/min"})
    cache.clear()
    try:
        statuses = [api.get(f"/api/v1/verify/{record.content_sha256}").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert api.post("/api/v1/verify", {"file": upload(image_bytes(1))}, format="multipart").status_code == 429
    finally:
        cache.clear()


def test_an_anchored_record_with_the_chain_down_reports_unavailable_not_an_error(api, register_image, settings):
    record, _ = register_image(5)
    batch = batch_build()
    batch.transaction.tx_hash = "0x" + "11" * 32
    batch.transaction.state = TxState.MINED
    batch.transaction.save()
    batch.state, batch.registry_address, batch.block_number = AnchorState.ANCHORED, "0x" + "22" * 20, 5
    batch.save()
    ProvenanceRecord.objects.update(state=RecordState.ANCHORED)
    settings.CHAIN_RPC_URL = f"http://127.0.0.1:{free_port()}"
    response = api.get(f"/api/v1/verify/{record.content_sha256}")
    assert response.status_code == 200
    match = response.json()["match"]
    assert match["anchor"]["transaction_hash"] == "0x" + "11" * 32
    assert match["chain_check"]["status"] == "unavailable" and match["chain_check"]["proof_valid"] is None


def test_certificate_of_a_record_not_yet_anchored_is_409(api, register_image):
    record, _ = register_image(5)
    body = problem(api.get(f"/api/v1/provenance/{record.public_id}/certificate"), 409, "not_anchored")
    assert body["state"] == "pending"


def test_certificate_of_an_unknown_record_is_404(api):
    problem(api.get(f"/api/v1/provenance/{uuid.uuid4()}/certificate"), 404, "not_found")
