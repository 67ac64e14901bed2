"""C2PA manifests: sign one into PNG/JPEG bytes and read one back (c2pa-python; no Django, no network).

What Atelier writes (`ManifestSpec`): the actions (created with an IPTC digital source type, then resized /
watermarked for previews, watermarked for originals marked at creation, then published; a watermarked
action comes with a c2pa.soft-binding carrying the invisible watermark's key), the creative work's author,
the model version and dataset as ingredients whose instance ids carry their sha256, the Atelier assertion
pointing at the provenance record and its anchor, and a training-and-mining assertion. The auto thumbnail is
off: it was ~95 % of the time and bytes.

Reading reports what the SDK found without trusting it: "Valid" only means the signature and hashes check;
`trusted` needs the signer to chain to one of the anchors we pass (our development or operator root)."""

import io
import json
from dataclasses import dataclass, field
from typing import Any

import c2pa

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
SOURCE_GENERATED = IPTC + "trainedAlgorithmicMedia"
# Uploads: made by the artist with digital tools, as far as Atelier knows (the upload form asks no more).
SOURCE_UPLOADED = IPTC + "digitalCreation"
ATELIER_LABEL = "ai.atelier.provenance"
TRAINING_MINING_LABEL = "c2pa.training-mining"
TRAINING_MINING_KEYS = ("c2pa.ai_generative_training", "c2pa.ai_training", "c2pa.ai_inference", "c2pa.data_mining")
TRAINING_USES = ("allowed", "notAllowed", "constrained")
AUTHOR_LABEL = "stds.schema-org.CreativeWork"
SOFT_BINDING_LABEL = "c2pa.soft-binding"
# provenance.fingerprints.watermark: 48-bit key + CRC-16, convolutional code, DWT-DCT-SVD in Y and V (v1: U and V)
WATERMARK_ALG = "ai.atelier.watermark.v2"
MIME_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
BUILDER_SETTINGS = {"builder": {"thumbnail": {"enabled": False}}}
MAX_REPORT_JSON = 256 * 1024  # a manifest store whose JSON is larger is reported, not echoed back


class CredentialError(Exception):
    """Signing failed (bad certificate or key, unsupported format): a configuration or input problem."""


@dataclass(frozen=True)
class Reference:
    """Something the work was made from (a model version, a dataset), identified by its sha256."""

    kind: str  # "model_version" | "dataset"
    title: str
    sha256: str
    identifier: str = ""
    media_type: str = "application/octet-stream"


@dataclass(frozen=True)
class ManifestSpec:
    title: str
    digital_source_type: str
    author_name: str
    author_url: str
    atelier: dict[str, Any]  # the ai.atelier.provenance assertion (record id, hashes, anchor...)
    training_mining: str = "notAllowed"  # allowed | notAllowed | constrained
    training_constraint: str = ""  # constraint_info when constrained
    edits: tuple[dict[str, Any], ...] = ()  # extra actions between created and published (resize, watermark)
    references: tuple[Reference, ...] = ()
    # the invisible watermark's value (base64), required by the SDK beside a c2pa.watermarked action
    watermark_key_b64: str = ""
    generator_version: str = "0.1.0"


@dataclass(frozen=True)
class Signed:
    data: bytes  # the asset with its manifest embedded
    manifest: bytes  # the manifest store (JUMBF) the SDK embedded
    manifest_sha256: str


@dataclass(frozen=True)
class Reading:
    """What a file's manifest store says. status: absent | unreadable | invalid | untrusted | trusted."""

    status: str
    detail: str = ""
    validation_state: str | None = None
    signer: dict[str, Any] | None = None
    failures: list[dict[str, str]] = field(default_factory=list)
    manifest_count: int = 0
    active_manifest: str | None = None
    title: str | None = None
    claim_generator: str | None = None
    assertions: dict[str, Any] = field(default_factory=dict)
    ingredients: list[dict[str, Any]] = field(default_factory=list)

    @property
    def atelier(self) -> dict[str, Any] | None:
        value = self.assertions.get(ATELIER_LABEL)
        return value if isinstance(value, dict) else None


def training_mining_assertion(use: str, constraint: str = "") -> dict[str, Any]:
    if use not in TRAINING_USES:
        raise CredentialError(f"training-mining use must be one of {TRAINING_USES}, not {use!r}")
    entry: dict[str, Any] = {"use": use}
    if use == "constrained" and constraint:
        entry["constraint_info"] = constraint
    return {"entries": {key: dict(entry) for key in TRAINING_MINING_KEYS}}


def manifest_definition(spec: ManifestSpec, *, mime: str) -> dict[str, Any]:
    actions = [
        {
            "action": "c2pa.created",
            "digitalSourceType": spec.digital_source_type,
            "softwareAgent": {"name": "Atelier", "version": spec.generator_version},
        },
        *spec.edits,
        {"action": "c2pa.published"},
    ]
    author = {"@type": "Person", "name": spec.author_name}
    if spec.author_url:
        author["url"] = spec.author_url
    return {
        "claim_generator_info": [{"name": "Atelier", "version": spec.generator_version}],
        "title": spec.title,
        "format": mime,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": actions}},
            {
                "label": AUTHOR_LABEL,
                "data": {"@context": "https://schema.org", "@type": "CreativeWork", "author": [author]},
            },
            {
                "label": TRAINING_MINING_LABEL,
                "data": training_mining_assertion(spec.training_mining, spec.training_constraint),
            },
            {"label": ATELIER_LABEL, "data": spec.atelier},
            *(
                [
                    {
                        "label": SOFT_BINDING_LABEL,
                        "data": {"alg": WATERMARK_ALG, "blocks": [{"scope": {}, "value": spec.watermark_key_b64}]},
                    }
                ]
                if spec.watermark_key_b64
                else []
            ),
        ],
        # JSON-only ingredients keep title, format and instance id (not a hash field), so the id carries it
        "ingredients": [
            {
                "title": ref.title,
                "format": ref.media_type,
                "relationship": "inputTo",
                "instance_id": f"atelier:{ref.kind}:{ref.identifier}:sha256:{ref.sha256}",
            }
            for ref in spec.references
        ],
    }


def mime_of(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return MIME_TYPES["PNG"]
    if data.startswith(b"\xff\xd8\xff"):
        return MIME_TYPES["JPEG"]
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return MIME_TYPES["WEBP"]
    return None


def sign(*, data: bytes, spec: ManifestSpec, chain_pem: bytes, key_pem: bytes) -> Signed:
    """`data` with a signed manifest embedded (ES256, no timestamp authority: nothing leaves the machine)."""
    import hashlib

    mime = mime_of(data)
    if mime is None:
        raise CredentialError("only PNG, JPEG and WEBP can carry a manifest here")
    out = io.BytesIO()
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain_pem, key_pem, None))
        with (
            signer,
            c2pa.Context.from_dict(BUILDER_SETTINGS) as context,
            c2pa.Builder(manifest_definition(spec, mime=mime), context=context) as builder,
        ):
            manifest = builder.sign(signer, mime, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise CredentialError(f"C2PA signing failed: {exc}") from exc
    return Signed(data=out.getvalue(), manifest=manifest, manifest_sha256=hashlib.sha256(manifest).hexdigest())


def _reader_settings(trust_anchors_pem: str) -> dict[str, Any]:
    return {"trust": {"user_anchors": trust_anchors_pem}} if trust_anchors_pem else {}


def read(*, data: bytes, trust_anchors_pem: str = "") -> Reading:
    """The manifest store of `data`, validated against the given trust anchors. Never raises for bad input:
    a broken, oversized or ambiguous store is a Reading with status `unreadable` and the reason."""
    mime = mime_of(data)
    if mime is None:
        return Reading(status="unreadable", detail="Only PNG, JPEG and WEBP files are read for Content Credentials.")
    try:
        with c2pa.Context.from_dict(_reader_settings(trust_anchors_pem)) as context:
            reader = c2pa.Reader.try_create(mime, io.BytesIO(data), None, context)
            if reader is None:
                return Reading(status="absent", detail="The file carries no Content Credentials.")
            with reader:
                text = reader.json()
    except c2pa.C2paError as exc:
        return _unreadable(exc)
    except (ValueError, OSError) as exc:  # the binding's own guards (bad UTF-8, stream errors)
        return Reading(status="unreadable", detail=f"The manifest could not be read ({type(exc).__name__}).")
    if len(text) > MAX_REPORT_JSON:
        return Reading(
            status="unreadable",
            detail=f"The manifest store is too large to report "
            f"({len(text)} bytes of JSON; the limit is {MAX_REPORT_JSON}).",
        )
    return _reading_of(json.loads(text))


def _unreadable(exc: Exception) -> Reading:
    kind = type(exc).__name__.lstrip("_").removeprefix("C2pa") or "Error"
    message = str(exc).splitlines()[0][:300] if str(exc) else kind
    if kind == "ManifestNotFound":
        return Reading(status="absent", detail="The file carries no Content Credentials.")
    return Reading(status="unreadable", detail=f"The Content Credentials could not be read ({kind}: {message}).")


def _reading_of(store: dict[str, Any]) -> Reading:
    manifests = store.get("manifests") or {}
    label = store.get("active_manifest")
    active = manifests.get(label) if isinstance(manifests, dict) else None
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures = [
        {"code": str(item.get("code")), "explanation": str(item.get("explanation", ""))[:300]}
        for item in results.get("failure") or []
    ]
    failures += [
        {"code": str(item.get("code")), "explanation": str(item.get("explanation", ""))[:300]}
        for item in store.get("validation_status") or []
        if item not in (results.get("failure") or [])
    ]
    state = store.get("validation_state")
    if not isinstance(active, dict):
        return Reading(
            status="unreadable",
            detail="The manifest store has no active manifest.",
            validation_state=state,
            failures=failures,
            manifest_count=len(manifests),
        )
    codes = {item["code"] for item in failures}
    untrusted = "signingCredential.untrusted" in codes
    real_failures = [item for item in failures if item["code"] != "signingCredential.untrusted"]
    if state == "Invalid" or real_failures:
        status, detail = "invalid", "The Content Credentials do not match this file, or their signature fails."
    elif state == "Trusted" and not untrusted:
        status, detail = "trusted", "Signed by a certificate that chains to Atelier's trust anchor, and intact."
    else:
        status, detail = "untrusted", "Intact, but signed by a certificate Atelier does not trust."
    assertions = {str(item.get("label")): item.get("data") for item in active.get("assertions") or []}
    generator = active.get("claim_generator_info") or [{}]
    return Reading(
        status=status,
        detail=detail,
        validation_state=state,
        signer=active.get("signature_info"),
        failures=failures,
        manifest_count=len(manifests),
        active_manifest=label,
        title=active.get("title"),
        claim_generator=(generator[0] or {}).get("name"),
        assertions=assertions,
        ingredients=list(active.get("ingredients") or []),
    )


def strip_manifest(data: bytes) -> bytes | None:
    """`data` without its embedded manifest store (PNG caBX chunks, JPEG APP11 JUMBF segments), or None when
    there is none or the file is malformed. The SDK only inserts these, so for a file Atelier signed this gives
    back the registered bytes exactly, and their sha256 finds the record."""
    mime = mime_of(data)
    if mime == MIME_TYPES["PNG"]:
        return _strip_png(data)
    if mime == MIME_TYPES["JPEG"]:
        return _strip_jpeg(data)
    return None


def _strip_png(data: bytes) -> bytes | None:
    kept, offset, found = [data[:8]], 8, False
    while offset + 12 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        kind, end = data[offset + 4 : offset + 8], offset + 12 + length
        if end > len(data):
            return None
        if kind == b"caBX":
            found = True
        else:
            kept.append(data[offset:end])
        offset = end
        if kind == b"IEND":
            break
    return b"".join(kept) + data[offset:] if found else None


def _strip_jpeg(data: bytes) -> bytes | None:
    kept, offset, found = [data[:2]], 2, False
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            return b"".join(kept) + data[offset:] if found else None
        end = offset + 2 + int.from_bytes(data[offset + 2 : offset + 4], "big")
        if end > len(data):
            return None
        if marker == 0xEB and data[offset + 4 : offset + 6] == b"JP":  # APP11 carrying JUMBF
            found = True
        else:
            kept.append(data[offset:end])
        offset = end
    return None
