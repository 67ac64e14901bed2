"""The C2PA engine with real files and the real SDK: written, read back and validated; tampering, a foreign
signer, broken, oversized and doubled manifest stores and unsupported formats are reported, never raised."""

import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from PIL import Image

from bench.synthetic_images import synthetic_image
from provenance.credentials import c2pa_manifests as m
from provenance.credentials.certificates import (
    CHAIN_FILE,
    DEVELOPMENT_MARK,
    KEY_FILE,
    ROOT_FILE,
    check_signing_material,
    development_material,
    is_development_chain,
    issue_signing_material,
)


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    return development_material(tmp_path_factory.mktemp("c2pa-dev"))


@pytest.fixture(scope="module")
def stranger():
    return issue_signing_material(root_cn="Someone else's root", signer_cn="Someone else", organization="Elsewhere")


def encode(fmt: str, size: int = 128) -> bytes:
    out = io.BytesIO()
    synthetic_image(3, size=(size, size)).convert("RGB").save(out, format=fmt)
    return out.getvalue()


SPEC = m.ManifestSpec(
    title="Dawn",
    digital_source_type=m.SOURCE_GENERATED,
    author_name="Ada",
    author_url="/artists/abc",
    atelier={"record_id": "2b0c5e1e-0000-4000-8000-000000000000", "content_sha256": "ab" * 32, "chain_id": 31337},
    edits=({"action": "c2pa.resized", "description": "Downscaled."},),
    references=(m.Reference(kind="model_version", title="model", sha256="cd" * 32, identifier="mv1"),),
)


def sign(data: bytes, material, spec: m.ManifestSpec = SPEC) -> m.Signed:
    return m.sign(data=data, spec=spec, chain_pem=material.chain_pem, key_pem=material.key_pem)


def anchors(material) -> str:
    return material.root_pem.decode()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_manifest_is_written_read_back_and_trusted_under_our_root(dev, fmt):
    original = encode(fmt)
    signed = sign(original, dev)
    reading = m.read(data=signed.data, trust_anchors_pem=anchors(dev))
    assert reading.status == "trusted" and reading.validation_state == "Trusted" and reading.failures == []
    assert reading.manifest_count == 1 and reading.signer["common_name"].startswith("Atelier DEVELOPMENT")
    actions = [a["action"] for a in reading.assertions["c2pa.actions.v2"]["actions"]]
    assert actions == ["c2pa.created", "c2pa.resized", "c2pa.published"]
    assert reading.assertions["c2pa.actions.v2"]["actions"][0]["digitalSourceType"] == m.SOURCE_GENERATED
    assert reading.assertions[m.AUTHOR_LABEL]["author"] == [{"@type": "Person", "name": "Ada", "url": "/artists/abc"}]
    assert reading.atelier == SPEC.atelier
    entries = reading.assertions[m.TRAINING_MINING_LABEL]["entries"]
    assert {entry["use"] for entry in entries.values()} == {"notAllowed"}
    assert set(entries) == set(m.TRAINING_MINING_KEYS)
    assert reading.ingredients[0]["instance_id"] == f"atelier:model_version:mv1:sha256:{'cd' * 32}"
    assert "c2pa.thumbnail.claim" not in json.dumps(reading.assertions)  # the auto thumbnail is off
    assert len(signed.data) - len(original) < 20_000
    assert m.strip_manifest(signed.data) == original  # the SDK only inserted the store


def test_valid_is_not_trusted_without_our_anchor(dev):
    reading = m.read(data=sign(encode("PNG"), dev).data, trust_anchors_pem="")
    assert reading.status == "untrusted" and reading.validation_state == "Valid"
    assert "signingCredential.untrusted" in {f["code"] for f in reading.failures}


def test_a_manifest_signed_by_an_unknown_certificate_is_untrusted(dev, stranger):
    reading = m.read(data=sign(encode("JPEG"), stranger).data, trust_anchors_pem=anchors(dev))
    assert reading.status == "untrusted" and reading.signer["common_name"] == "Someone else"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_flipping_one_pixel_data_byte_reads_invalid(dev, fmt):
    signed = bytearray(sign(encode(fmt), dev).data)
    marker = b"IDAT" if fmt == "PNG" else b"\xff\xda"
    signed[signed.rindex(marker) + 40] ^= 0x01
    reading = m.read(data=bytes(signed), trust_anchors_pem=anchors(dev))
    assert reading.status == "invalid"
    assert "assertion.dataHash.mismatch" in {f["code"] for f in reading.failures}


def test_a_file_without_credentials_reads_absent():
    assert m.read(data=encode("PNG")).status == "absent"
    assert m.strip_manifest(encode("PNG")) is None


def test_a_corrupt_manifest_store_is_reported_unreadable(dev):
    signed = bytearray(sign(encode("PNG"), dev).data)
    start = signed.index(b"caBX")
    for offset in range(start + 60, start + 400, 7):
        signed[offset] ^= 0xFF
    reading = m.read(data=bytes(signed), trust_anchors_pem=anchors(dev))
    assert reading.status in ("unreadable", "invalid") and reading.detail


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, offset = [], 8
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        chunks.append((data[offset + 4 : offset + 8], data[offset : offset + 12 + length]))
        offset += 12 + length
    return chunks


def test_two_manifest_stores_in_one_file_are_reported_unreadable(dev, stranger):
    ours, theirs = sign(encode("PNG"), dev).data, sign(encode("PNG"), stranger).data
    extra = next(chunk for kind, chunk in _png_chunks(ours) if kind == b"caBX")
    chunks = [chunk for _, chunk in _png_chunks(theirs)]
    doubled = theirs[:8] + chunks[0] + extra + b"".join(chunks[1:])
    reading = m.read(data=doubled, trust_anchors_pem=anchors(dev))
    assert reading.status == "unreadable" and "more than one manifest store" in reading.detail


def test_a_huge_manifest_is_reported_not_echoed(dev):
    huge = m.ManifestSpec(**{**SPEC.__dict__, "atelier": {"padding": "x" * 600_000}})
    reading = m.read(data=sign(encode("PNG"), dev, huge).data, trust_anchors_pem=anchors(dev))
    assert reading.status == "unreadable" and "too large" in reading.detail and reading.assertions == {}


def test_a_huge_garbage_store_is_reported_unreadable(dev):
    original = encode("PNG")
    chunks = [chunk for _, chunk in _png_chunks(original)]
    body = b"\x00\x00\x00\x10jumb" + b"\x5a" * 3_000_000
    garbage = len(body).to_bytes(4, "big") + b"caBX" + body + b"\x00\x00\x00\x00"
    reading = m.read(data=original[:8] + chunks[0] + garbage + b"".join(chunks[1:]), trust_anchors_pem=anchors(dev))
    assert reading.status == "unreadable"


def test_unsupported_formats_are_refused_when_read_and_when_signed(dev):
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    assert m.read(data=gif.getvalue()).status == "unreadable"
    assert m.read(data=b"").status == "unreadable"
    with pytest.raises(m.CredentialError):
        sign(gif.getvalue(), dev)


def test_training_mining_follows_the_value_given(dev):
    spec = m.ManifestSpec(
        **{
            **SPEC.__dict__,
            "training_mining": "constrained",
            "training_constraint": "Only with the artist's written agreement.",
        }
    )
    entries = m.read(data=sign(encode("PNG"), dev, spec).data, trust_anchors_pem=anchors(dev)).assertions[
        m.TRAINING_MINING_LABEL
    ]["entries"]
    assert entries["c2pa.ai_training"] == {
        "use": "constrained",
        "constraint_info": "Only with the artist's written agreement.",
    }
    with pytest.raises(m.CredentialError):
        m.training_mining_assertion("maybe")


def test_the_development_material_says_so_and_is_made_once(tmp_path: Path):
    first = development_material(tmp_path)
    again = development_material(tmp_path)
    assert first == again and is_development_chain(first.chain_pem)
    signer, root = x509.load_pem_x509_certificates(first.chain_pem)
    assert DEVELOPMENT_MARK in signer.subject.rfc4514_string() and DEVELOPMENT_MARK in root.subject.rfc4514_string()
    assert (tmp_path / "signer-key.pem").stat().st_mode & 0o077 == 0
    assert check_signing_material(chain_pem=first.chain_pem, key_pem=first.key_pem) == []


def test_processes_creating_the_development_material_at_once_all_get_one_matching_set(tmp_path: Path):
    """Web and test workers start together: none may end up with one's key beside another's certificate."""
    directory, barrier = tmp_path / "c2pa", threading.Barrier(6)

    def create() -> object:
        barrier.wait()
        return development_material(directory)

    with ThreadPoolExecutor(6) as pool:
        sets = list(pool.map(lambda _: create(), range(6)))
    assert all(material == sets[0] for material in sets)
    assert check_signing_material(chain_pem=sets[0].chain_pem, key_pem=sets[0].key_pem) == []
    assert sorted(path.name for path in directory.iterdir()) == sorted((CHAIN_FILE, KEY_FILE, ROOT_FILE))
    assert [path.name for path in tmp_path.iterdir()] == ["c2pa"]  # no staging directory left behind


def test_a_key_that_does_not_match_the_chain_is_named(dev, stranger):
    problems = check_signing_material(chain_pem=dev.chain_pem, key_pem=stranger.key_pem)
    assert problems == ["the private key does not belong to the first certificate of the chain"]
    assert not is_development_chain(stranger.chain_pem)
    assert check_signing_material(chain_pem=b"nope", key_pem=dev.key_pem) == [
        "the certificate chain is not PEM certificates"
    ]
