"""Lineage records: datasets, model versions and licence sales get provenance records of their own, anchored in
the same Merkle batches as artworks, so a certificate can show dataset -> model -> artwork -> licences.

A derived record has no file of its own; it commits to a *manifest* instead:

    content_sha256  = sha256(canonical JSON of the manifest)      (canonical_json below)
    perceptual_hash = the parent record's content_sha256, or 32 zero bytes without a parent

so the leaf on chain binds the record to what it describes (the ONNX file's sha256, the training config, the
dataset hash) *and* to its parent. Its pdq_quality is 0, so it never enters the near-duplicate index. An
artwork's leaf keeps its real PDQ (the registry's verify_record and v1 certificates read it), so the artwork ->
model link is the record's `parent` and the artwork's regeneration recipe, not a leaf field.

`ProvenanceLineage` is generation's lineage hook (generation/lineage.py, GENERATION_LINEAGE_RECORDER).
"""

import hashlib
from typing import Any

from provenance.proofs.verify_certificate import canonical_json

LINEAGE_FORMAT = "atelier-lineage/1"
NO_PARENT = "00" * 32
KIND_DATASET, KIND_MODEL_VERSION, KIND_LICENCE, KIND_ARTWORK = "dataset", "model_version", "licence", "artwork"
RECORD_KIND_CHOICES = [(kind, kind) for kind in (KIND_ARTWORK, KIND_DATASET, KIND_MODEL_VERSION, KIND_LICENCE)]
__all__ = ["canonical_json", "manifest_sha256"]  # canonical_json is the checker's, so both sides hash alike


def manifest_sha256(manifest: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(manifest)).hexdigest()


def user_ref(user: Any) -> str:
    """The opaque reference of an account (the scheme the gallery uses)."""
    return f"accounts.user:{user.public_id}"


class ProvenanceLineage:
    """Registers a record per finalised dataset and exported model version, in the caller's transaction."""

    def dataset_finalised(
        self,
        *,
        subject: str,
        owner: Any,
        dataset_hash: str,
        image_count: int,
        parent_subject: str | None,
        contents_public: bool,
        image_sha256s: list[str],
        class_names: list[str],
    ) -> None:
        from provenance.services.lineage import lineage_record_register

        disclosure = {"image_sha256s": list(image_sha256s), "class_names": list(class_names)} if contents_public else {}
        lineage_record_register(
            kind=KIND_DATASET,
            subject=subject,
            creator=user_ref(owner),
            owner=user_ref(owner),
            user=owner,
            parent_subject=parent_subject,
            disclosure=disclosure,
            fields={"dataset_hash": dataset_hash, "image_count": int(image_count)},
        )

    def model_version_exported(
        self,
        *,
        subject: str,
        owner: Any,
        onnx_sha256: str,
        config: dict[str, Any],
        dataset_subject: str,
        dataset_hash: str,
    ) -> None:
        from provenance.services.lineage import lineage_record_register

        lineage_record_register(
            kind=KIND_MODEL_VERSION,
            subject=subject,
            creator=user_ref(owner),
            owner=user_ref(owner),
            user=owner,
            parent_subject=dataset_subject,
            fields={"onnx_sha256": onnx_sha256, "config": config, "dataset_hash": dataset_hash},
        )
