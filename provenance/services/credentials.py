"""Content Credentials, the Django side: the signing material from settings, the Atelier assertion of a record
(what is known of its anchor at signing time), signing for callers, and the row that remembers a preview's
manifest. The engine is provenance.credentials (no Django)."""

import functools
import hashlib
import logging
from pathlib import Path
from typing import Any

from django.conf import settings

from core.errors import ServiceUnavailable
from provenance import conf
from provenance.credentials import c2pa_manifests
from provenance.credentials.certificates import SigningMaterial, development_material, first_certificate
from provenance.errors import ProvenanceError
from provenance.models import ChainDeployment, ContentCredential, ProvenanceRecord
from provenance.selectors import anchor_of

ATELIER_ASSERTION_VERSION = 1
logger = logging.getLogger("atelier.provenance")


def signing_enabled() -> bool:
    return bool(conf.get("PROVENANCE_C2PA_SIGNING"))


@functools.lru_cache(maxsize=4)
def _material(chain: str, key: str, dev_dir: str) -> SigningMaterial:
    if chain and key:
        chain_pem = Path(chain).read_bytes()
        return SigningMaterial(
            chain_pem=chain_pem, key_pem=Path(key).read_bytes(), root_pem=_last_certificate_pem(chain_pem)
        )
    return development_material(Path(dev_dir))


@functools.lru_cache(maxsize=4)
def _anchors(path: str) -> str:
    return Path(path).read_text()


def _last_certificate_pem(chain_pem: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    return x509.load_pem_x509_certificates(chain_pem)[-1].public_bytes(serialization.Encoding.PEM)


def _configured() -> tuple[str, str]:
    return conf.get("PROVENANCE_C2PA_CERT_CHAIN"), conf.get("PROVENANCE_C2PA_PRIVATE_KEY")


def signing_material() -> SigningMaterial:
    """The configured chain and key; outside production, the development CA under PROVENANCE_C2PA_DEV_DIR
    (production refuses to start with signing on and no chain, and never makes development material)."""
    chain, key = _configured()
    if not (chain and key) and getattr(settings, "PRODUCTION", False):
        raise ServiceUnavailable(
            "Content Credentials signing is not configured.", code=ProvenanceError.CREDENTIALS_UNAVAILABLE
        )
    return _material(chain, key, conf.c2pa_dev_dir())


def trust_anchors_pem() -> str:
    """The roots verify trusts (PEM): PROVENANCE_C2PA_TRUST_ANCHORS, else the configured chain's root, else
    (outside production only) the development root; in production with neither, none: nothing reads trusted."""
    anchors = conf.get("PROVENANCE_C2PA_TRUST_ANCHORS")
    if anchors:
        return _anchors(anchors)
    chain, key = _configured()
    if not (chain and key) and getattr(settings, "PRODUCTION", False):
        return ""
    return signing_material().root_pem.decode()


def signer_subject() -> str:
    return first_certificate(signing_material().chain_pem).subject.rfc4514_string()


def public_url(path: str) -> str:
    return f"{conf.get('PUBLIC_BASE_URL')}{path}"


def record_assertion(*, record: ProvenanceRecord | None, content_sha256: str, **extra: Any) -> dict[str, Any]:
    """The `ai.atelier.provenance` assertion: the record and what is known of its anchor right now (a preview
    signed at publish has no transaction yet; a download signed later carries the mined one)."""
    anchor = anchor_of(record=record) if record is not None else None
    deployment = None if anchor else ChainDeployment.objects.filter(chain_id=settings.CHAIN_ID).first()
    return {
        "version": ATELIER_ASSERTION_VERSION,
        "record_id": str(record.public_id) if record is not None else None,
        "content_sha256": content_sha256,
        "record_state": record.state if record is not None else None,
        "chain_id": anchor["chain_id"] if anchor else settings.CHAIN_ID,
        "registry_address": anchor["registry_address"]
        if anchor
        else (deployment.registry_address if deployment else None),
        "transaction_hash": anchor["transaction_hash"] if anchor else None,
        "merkle_root": anchor["root"] if anchor else None,
        "block_number": anchor["block_number"] if anchor else None,
        "verify_url": public_url("/verify"),
        **extra,
    }


def credential_sign(*, data: bytes, spec: c2pa_manifests.ManifestSpec) -> c2pa_manifests.Signed | None:
    """`data` with a signed manifest, or None when signing is off (PROVENANCE_C2PA_SIGNING=0)."""
    if not signing_enabled():
        return None
    material = signing_material()
    try:
        return c2pa_manifests.sign(data=data, spec=spec, chain_pem=material.chain_pem, key_pem=material.key_pem)
    except c2pa_manifests.CredentialError as exc:  # our certificate or the SDK, never the caller's input
        logger.exception("C2PA signing failed")
        raise ServiceUnavailable(
            "Content Credentials could not be signed; the signing certificate may be misconfigured.",
            code=ProvenanceError.CREDENTIALS_UNAVAILABLE,
        ) from exc


def preview_credential_record(*, record: ProvenanceRecord, signed: c2pa_manifests.Signed) -> ContentCredential:
    """Remember the manifest signed into a record's public preview (in the caller's transaction)."""
    reading = c2pa_manifests.read(data=signed.data, trust_anchors_pem=trust_anchors_pem())
    credential, _ = ContentCredential.objects.update_or_create(
        record=record,
        asset=ContentCredential.Asset.PREVIEW,
        defaults={
            "manifest_sha256": signed.manifest_sha256,
            "asset_sha256": hashlib.sha256(signed.data).hexdigest(),
            "manifest_label": reading.active_manifest or "",
            "signer": signer_subject(),
        },
    )
    return credential
