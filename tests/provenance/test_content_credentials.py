"""Verify reads Content Credentials (C2PA) from uploaded files: trusted only under our root, the record named by
the Atelier assertion, a signed copy of a registered file found by its bytes without the manifest, and broken
input reported (or refused with a 4xx) without a 500 and without storing anything."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from bench.synthetic_images import synthetic_image
from provenance.credentials import c2pa_manifests as m
from provenance.credentials.certificates import issue_signing_material
from provenance.models import ContentCredential, ProvenanceRecord
from provenance.selectors import manifest_digest_for_record
from provenance.services import credentials

pytestmark = pytest.mark.django_db


def spec_for(record: ProvenanceRecord, **changes) -> m.ManifestSpec:
    atelier = credentials.record_assertion(record=record, content_sha256=record.content_sha256)
    fields = {
        "title": "Dawn",
        "digital_source_type": m.SOURCE_UPLOADED,
        "author_name": "Ada",
        "author_url": "/artists/x",
        "atelier": atelier,
    } | changes
    return m.ManifestSpec(**fields)


def verify(api, data: bytes, name: str = "art.png"):
    return api.post("/api/v1/verify", {"file": SimpleUploadedFile(name, data)}, format="multipart")


def stored_counts() -> tuple[int, int]:
    return ProvenanceRecord.objects.count(), ContentCredential.objects.count()


def test_a_signed_copy_of_a_registered_file_is_trusted_and_names_its_record(api, register_image):
    record, raw = register_image(11)
    signed = credentials.credential_sign(data=raw, spec=spec_for(record))
    body = verify(api, signed.data).json()
    cr = body["content_credentials"]
    assert cr["status"] == "trusted" and cr["trusted"] is True and cr["validation_state"] == "Trusted"
    assert cr["signer"]["common_name"].startswith("Atelier DEVELOPMENT")
    assert cr["record"]["id"] == str(record.public_id)
    assert cr["atelier"]["record_id"] == str(record.public_id)
    assert cr["atelier"]["content_sha256"] == record.content_sha256
    assert [a["action"] for a in cr["actions"]] == ["c2pa.created", "c2pa.published"]
    assert cr["author"][0]["name"] == "Ada" and cr["training_mining"]["c2pa.ai_training"] == {"use": "notAllowed"}
    # the bytes differ from the registered ones, but without the manifest they are exactly those
    assert body["query"]["sha256"] != record.content_sha256
    assert body["query"]["sha256_without_manifest"] == record.content_sha256
    assert body["match"]["record"]["id"] == str(record.public_id)


def test_an_unknown_signer_is_untrusted_and_its_claim_is_not_followed(api, register_image):
    record, raw = register_image(12)
    other = issue_signing_material(root_cn="Forger root", signer_cn="Forger", organization="Forgers")
    forged = m.sign(data=raw, spec=spec_for(record), chain_pem=other.chain_pem, key_pem=other.key_pem)
    cr = verify(api, forged.data).json()["content_credentials"]
    assert cr["status"] == "untrusted" and cr["trusted"] is False
    assert cr["signer"]["common_name"] == "Forger"
    assert cr["record"] is None  # anyone can write an Atelier assertion; only ours is followed


def test_a_tampered_signed_file_reads_invalid(api, register_image):
    jpeg = io.BytesIO()
    synthetic_image(13).convert("RGB").save(jpeg, format="JPEG", quality=90)
    record, raw = register_image(13, raw=jpeg.getvalue())
    signed = bytearray(credentials.credential_sign(data=raw, spec=spec_for(record)).data)
    signed[signed.rindex(b"\xff\xda") + 60] ^= 0x01  # entropy-coded scan data: still decodes, pixels differ
    response = verify(api, bytes(signed), "art.jpg")
    assert response.status_code == 200, response.content
    cr = response.json()["content_credentials"]
    assert cr["status"] == "invalid" and cr["trusted"] is False and cr["record"] is None
    assert "assertion.dataHash.mismatch" in {f["code"] for f in cr["failures"]}


def test_a_file_without_credentials_reports_absent(api, register_image):
    _, raw = register_image(14)
    body = verify(api, raw).json()
    assert body["content_credentials"]["status"] == "absent" and body["query"]["sha256_without_manifest"] is None
    assert body["match"] is not None


def _with_chunk(png: bytes, chunk: bytes) -> bytes:
    length = int.from_bytes(png[8:12], "big")
    head = 8 + 12 + length  # after IHDR
    return png[:head] + chunk + png[head:]


def _cabx(body: bytes) -> bytes:
    import zlib

    return len(body).to_bytes(4, "big") + b"caBX" + body + zlib.crc32(b"caBX" + body).to_bytes(4, "big")


@pytest.mark.parametrize(
    "body",
    [b"\x00\x00\x00\x08jumb", b"\x00\x00\x00\x20jumb" + b"\x11" * 200, b"\x00\x00\x00\x10jumb" + b"\x5a" * 4_000_000],
)
def test_corrupt_and_huge_manifest_stores_are_reported_and_nothing_is_stored(api, register_image, body):
    _, raw = register_image(15)
    before = stored_counts()
    response = verify(api, _with_chunk(raw, _cabx(body)))
    assert response.status_code == 200, response.content
    cr = response.json()["content_credentials"]
    assert cr["status"] == "unreadable" and cr["detail"] and cr["trusted"] is False
    assert stored_counts() == before


def test_several_manifest_stores_are_reported_unreadable(api, register_image):
    record, raw = register_image(16)
    first = credentials.credential_sign(data=raw, spec=spec_for(record)).data
    other = credentials.credential_sign(data=raw, spec=spec_for(record, title="Other")).data
    store = other[other.index(b"caBX") - 4 :]
    store = store[: int.from_bytes(store[:4], "big") + 12]
    before = stored_counts()
    cr = verify(api, _with_chunk(first, store)).json()["content_credentials"]
    assert cr["status"] == "unreadable" and "more than one manifest store" in cr["detail"]
    assert stored_counts() == before


def test_an_unsupported_format_is_a_400_before_any_manifest_is_read(api):
    gif = io.BytesIO()
    Image.new("RGB", (32, 32)).save(gif, format="GIF")
    before = stored_counts()
    response = verify(api, gif.getvalue(), "art.gif")
    assert response.status_code == 400 and response.json()["code"] == "invalid_image"
    assert stored_counts() == before


def test_the_digest_of_a_record_without_a_signed_preview_is_none(register_image):
    record, _ = register_image(17)
    assert manifest_digest_for_record(record) is None


def test_signing_off_leaves_the_file_unchanged(settings, register_image):
    settings.PROVENANCE_C2PA_SIGNING = False
    record, raw = register_image(18)
    assert credentials.credential_sign(data=raw, spec=spec_for(record)) is None


def test_configured_trust_anchors_replace_the_development_root(api, settings, tmp_path, register_image):
    record, raw = register_image(19)
    signed = credentials.credential_sign(data=raw, spec=spec_for(record)).data  # by the development signer
    other = issue_signing_material(root_cn="Operator root", signer_cn="Operator", organization="Operator Ltd")
    (tmp_path / "roots.pem").write_bytes(other.root_pem)
    settings.PROVENANCE_C2PA_TRUST_ANCHORS = str(tmp_path / "roots.pem")
    assert credentials.trust_anchors_pem() == other.root_pem.decode()
    assert verify(api, signed).json()["content_credentials"]["status"] == "untrusted"


def test_production_without_a_certificate_trusts_nothing_and_makes_no_development_ca(
    api, settings, tmp_path, register_image
):
    record, raw = register_image(20)
    signed = credentials.credential_sign(data=raw, spec=spec_for(record)).data
    settings.PRODUCTION, settings.PROVENANCE_C2PA_SIGNING = True, False
    settings.PROVENANCE_C2PA_DEV_DIR = str(tmp_path / "never")
    assert credentials.trust_anchors_pem() == ""
    assert verify(api, signed).json()["content_credentials"]["status"] == "untrusted"
    assert not (tmp_path / "never").exists()
