"""Registering lineage records (provenance/lineage.py): a dataset, a model version or a licence sale, each
committed to by its manifest and linked to its parent record, in the caller's transaction."""

from typing import Any

from core.errors import InvalidInput
from provenance.lineage import (
    KIND_DATASET,
    KIND_LICENCE,
    KIND_MODEL_VERSION,
    LINEAGE_FORMAT,
    NO_PARENT,
    manifest_sha256,
)
from provenance.models import ProvenanceRecord
from provenance.services.records import record_register

KINDS = (KIND_DATASET, KIND_MODEL_VERSION, KIND_LICENCE)


def lineage_record_register(
    *,
    kind: str,
    subject: str,
    creator: str,
    owner: str,
    fields: dict[str, Any],
    parent_subject: str | None = None,
    parent: ProvenanceRecord | None = None,
    disclosure: dict[str, Any] | None = None,
    user: Any = None,
) -> ProvenanceRecord:
    """The record of a derived subject; its parent is `parent` or the record of `parent_subject` (none when
    that subject was never recorded, e.g. a dataset made before lineage records existed). Idempotent per
    subject: the subject's existing record is returned unchanged."""
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}.", field="kind")
    existing = ProvenanceRecord.objects.filter(subject=subject).order_by("id").first()
    if existing is not None:
        return existing
    if parent is None and parent_subject:
        parent = ProvenanceRecord.objects.filter(subject=parent_subject).order_by("id").first()
    manifest = {
        "format": LINEAGE_FORMAT,
        "kind": kind,
        "subject": subject,
        "parent_sha256": parent.content_sha256 if parent is not None else None,
        **fields,
    }
    return record_register(
        content_sha256=manifest_sha256(manifest),
        pdq=parent.content_sha256 if parent is not None else NO_PARENT,
        pdq_quality=0,
        subject=subject,
        creator=creator,
        owner=owner,
        user=user,
        parent=parent,
        manifest=manifest,
        disclosure=disclosure or {},
    )
