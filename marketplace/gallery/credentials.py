"""The Content Credentials (C2PA manifests) of a work's files: the public preview, signed once at first publish
and stored, and each delivered original, signed as it is served so it carries the downloader's licence and the
anchor as it stands then. What goes into a manifest is described in provenance/credentials/c2pa_manifests.py."""

import base64
import io
from dataclasses import replace
from typing import Any

from PIL import Image

from marketplace.gallery import ports
from marketplace.gallery.licence_terms import terms_for
from marketplace.gallery.models import Artwork, ArtworkSource, GrantState, LicenceGrant, LicenceType
from marketplace.gallery.previews import PREVIEW_MAX_SIDE, WATERMARK_TEXT
from provenance.credentials.c2pa_manifests import (
    SOURCE_GENERATED,
    SOURCE_UPLOADED,
    WATERMARK_ALG,
    ManifestSpec,
    Reference,
)
from provenance.fingerprints.watermark import MIN_SIDE as INVISIBLE_MIN_SIDE

# strongest first: the licence a download's manifest states when a holder has several
LICENCE_ORDER = (LicenceType.EXCLUSIVE, LicenceType.COMMERCIAL, LicenceType.PERSONAL)


def _author(artwork: Artwork) -> tuple[str, str]:
    artist = artwork.artist
    return artist.display_name or "Atelier artist", ports.public_url(f"/artists/{artist.public_id}")


def work_references(lineage: dict[str, Any]) -> tuple[Reference, ...]:
    """The model version and the dataset a generated work came from, by their sha256."""
    refs = []
    if lineage.get("onnx_sha256"):
        refs.append(
            Reference(
                kind="model_version",
                title=f"Atelier model version {lineage.get('model_version')}",
                sha256=lineage["onnx_sha256"],
                identifier=str(lineage.get("model_version") or ""),
                media_type="application/onnx",
            )
        )
    if lineage.get("dataset_hash"):
        refs.append(
            Reference(
                kind="dataset",
                title=f"Atelier dataset {lineage.get('dataset')}",
                sha256=lineage["dataset_hash"],
                identifier=str(lineage.get("dataset") or ""),
            )
        )
    return tuple(refs)


def _lineage_claims(lineage: dict[str, Any]) -> dict[str, Any]:
    keys = ("model_version", "onnx_sha256", "dataset", "dataset_hash", "seed", "truncation", "class_label")
    return {key: lineage[key] for key in keys if lineage.get(key) is not None}


def _spec(
    *, artwork: Artwork, record: Any, training: str, constraint: str, edits: tuple[dict, ...], **claims: Any
) -> ManifestSpec:
    name, url = _author(artwork)
    generated = artwork.source == ArtworkSource.GENERATED
    atelier = ports.credential_record_assertion(
        record=record,
        content_sha256=artwork.content_sha256,
        artwork_id=str(artwork.public_id),
        lineage=_lineage_claims(artwork.lineage or {}),
        **claims,
    )
    return ManifestSpec(
        title=artwork.title,
        digital_source_type=SOURCE_GENERATED if generated else SOURCE_UPLOADED,
        author_name=name,
        author_url=url,
        atelier=atelier,
        training_mining=training,
        training_constraint=constraint,
        edits=edits,
        references=work_references(artwork.lineage or {}) if generated else (),
    )


def preview_edits(*, artwork: Artwork, width: int, height: int) -> tuple[dict[str, Any], ...]:
    edits: list[dict[str, Any]] = []
    if (width, height) != (artwork.width, artwork.height):
        edits.append(
            {
                "action": "c2pa.resized",
                "description": f"Downscaled to {width}x{height} (at most {PREVIEW_MAX_SIDE} px a side).",
            }
        )
    edits.append({"action": "c2pa.edited", "description": f"Visible tiled watermark '{WATERMARK_TEXT}'."})
    if invisible_key(artwork=artwork, width=width, height=height):
        edits.append(watermarked_action())
    return tuple(edits)


def watermarked_action() -> dict[str, Any]:
    return {
        "action": "c2pa.watermarked",
        "description": (
            f"Invisible watermark ({WATERMARK_ALG}): a 48-bit key, stored with the work's provenance record, "
            "that Atelier's verify reads back to find the record when the file was re-encoded, resized or cropped."
        ),
    }


def invisible_key(*, artwork: Artwork, width: int, height: int) -> str:
    """The invisible watermark's key (base64) that a file of width x height made from the work carries (the
    preview, or the original when it was marked), else ''."""
    if not artwork.watermark_key or min(width, height) < INVISIBLE_MIN_SIDE:
        return ""
    return base64.b64encode(bytes.fromhex(artwork.watermark_key)).decode()


def preview_sign(*, artwork: Artwork, record: Any, preview: bytes) -> Any:
    """The public preview with its manifest (provenance's Signed), or None when signing is off. Previews never
    allow training or mining: nobody holds a licence to a preview."""
    with Image.open(io.BytesIO(preview)) as image:
        width, height = image.size
    spec = _spec(
        artwork=artwork,
        record=record,
        training="notAllowed",
        constraint="",
        edits=preview_edits(artwork=artwork, width=width, height=height),
        asset="preview",
        licence=None,
    )
    spec = replace(spec, watermark_key_b64=invisible_key(artwork=artwork, width=width, height=height))
    return ports.credential_sign(data=preview, spec=spec)


def signing_enabled() -> bool:
    return ports.credentials_signing_enabled()


def licence_of(*, user: Any, artwork: Artwork) -> str | None:
    """The strongest active licence `user` holds for the work (None for the artist without one)."""
    held = set(
        LicenceGrant.objects.filter(artwork=artwork, holder=user, state=GrantState.ACTIVE).values_list(
            "licence_type", flat=True
        )
    )
    return next((licence for licence in LICENCE_ORDER if licence in held), None)


def original_sign(*, artwork: Artwork, user: Any, original: bytes) -> bytes:
    """The original as delivered to `user`: with a manifest whose training-and-mining entry follows the licence
    they hold (signing off: the original unchanged)."""
    licence = licence_of(user=user, artwork=artwork)
    training, constraint = (
        ("notAllowed", "")
        if licence is None
        else (terms_for(licence).training_mining, terms_for(licence).training_constraint)
    )
    key = invisible_key(artwork=artwork, width=artwork.width, height=artwork.height)
    spec = _spec(
        artwork=artwork,
        record=artwork.provenance_record,
        training=training,
        constraint=constraint,
        edits=(watermarked_action(),) if artwork.original_watermarked and key else (),
        asset="original",
        licence=licence,
    )
    if artwork.original_watermarked:
        spec = replace(spec, watermark_key_b64=key)
    signed = ports.credential_sign(data=original, spec=spec)
    return original if signed is None else signed.data
