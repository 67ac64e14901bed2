"""Registering content and recording ownership transfers: both write their outbox work in the caller's
transaction, so the caller's change and the promise to put it on chain commit (or roll back) together."""

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from core.errors import CommonError, Conflict, InvalidInput, NotFound
from core.events import event_emit
from core.jobs import enqueue_once
from provenance import conf
from provenance.errors import ProvenanceError
from provenance.fingerprints.hashing import pdq_from_image, sha256_of_bytes
from provenance.locks import lock_record_of
from provenance.models import ChainTransaction, OwnershipEvent, ProvenanceRecord, RecordState, TxKind
from provenance.proofs.encoding import normalize_sha256
from provenance.tasks import provenance_batch

REFERENCE_MAX_LENGTH = 255
_WATERMARK_KEY = re.compile(r"[0-9a-f]{12}")


@dataclass(frozen=True)
class FileHashes:
    sha256: str  # of the bytes exactly as given
    pdq: str
    pdq_quality: int


def hash_file(*, raw: bytes) -> FileHashes:
    """sha256 of the original bytes (what a verifier will upload) and PDQ of the decoded pixels.
    Validate untrusted uploads first (core.uploads.image_clean); this only decodes."""
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            pdq = pdq_from_image(image)
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError) as exc:
        raise InvalidInput(
            f"The file is not a readable image ({type(exc).__name__}).", field="file", code=CommonError.INVALID_IMAGE
        ) from None
    return FileHashes(sha256=sha256_of_bytes(raw), pdq=pdq.hash_hex, pdq_quality=pdq.quality)


def _sha256_or_400(value: Any, field: str) -> str:
    sha = normalize_sha256(value) if isinstance(value, str) else None
    if sha is None:
        raise InvalidInput(
            f"{field} must be 64 hexadecimal characters (a sha256 digest).",
            field=field,
            code=ProvenanceError.INVALID_SHA256,
        )
    return sha


def _pdq_or_400(value: Any) -> str:
    pdq = normalize_sha256(value) if isinstance(value, str) else None
    if pdq is None:
        raise InvalidInput(
            "pdq must be 64 hexadecimal characters (a 256-bit PDQ hash).", field="pdq", code=ProvenanceError.INVALID_PDQ
        )
    return pdq


def _reference_or_400(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > REFERENCE_MAX_LENGTH:
        raise InvalidInput(
            f"{field} must be a non-empty reference of at most {REFERENCE_MAX_LENGTH} characters.",
            field=field,
            code=ProvenanceError.INVALID_REFERENCE,
        )
    return value


# One key for the advisory lock that serialises "is this a near-duplicate? then register" across sessions.
REGISTRATION_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"atelier.provenance.registration").digest()[:8], "big", signed=True
)


def registration_lock() -> None:
    """Serialise near-duplicate check + registration until the caller's transaction ends. A unique index
    stops two registrations of the same bytes, but nothing stops two *near*-identical images, each checked
    before the other committed, from both passing: callers that check then register take this lock first.
    PostgreSQL: a transaction-scoped advisory lock. SQLite: its IMMEDIATE transactions already run one writer
    at a time, so there is nothing to take."""
    if not connection.in_atomic_block:
        raise RuntimeError("registration_lock() holds until the end of a transaction: call it inside one")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REGISTRATION_LOCK_KEY])


def record_register(
    *,
    content_sha256: str,
    pdq: str,
    pdq_quality: int,
    subject: str,
    creator: str,
    owner: str,
    user: Any = None,
    parent: ProvenanceRecord | None = None,
    manifest: dict[str, Any] | None = None,
    disclosure: dict[str, Any] | None = None,
    watermark_key: str = "",
) -> ProvenanceRecord:
    """Register content for anchoring (state PENDING; the batcher picks it up after commit). The same content
    registered again returns the existing record unchanged: one record, one anchor. `user` (optional) is the
    account that owns the record, to whom provenance.* events are addressed; `parent` is the lineage record it
    comes from (an artwork's model version); `manifest` and `disclosure` are a lineage record's
    (services/lineage.py); `watermark_key` the 48-bit key (12 hex digits) the content's files carry invisibly
    (provenance.fingerprints.watermark), by which verify finds the record from an altered copy."""
    sha = _sha256_or_400(content_sha256, "content_sha256")
    if not isinstance(watermark_key, str) or (watermark_key and not _WATERMARK_KEY.fullmatch(watermark_key)):
        raise InvalidInput("watermark_key must be 12 lowercase hexadecimal digits (48 bits).", field="watermark_key")
    pdq = _pdq_or_400(pdq)
    if isinstance(pdq_quality, bool) or not isinstance(pdq_quality, int) or not 0 <= pdq_quality <= 100:
        raise InvalidInput("pdq_quality must be an integer from 0 to 100.", field="pdq_quality")
    fields = {
        "subject": _reference_or_400(subject, "subject"),
        "creator": _reference_or_400(creator, "creator"),
        "owner": _reference_or_400(owner, "owner"),
    }
    existing = ProvenanceRecord.objects.filter(content_sha256=sha).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():  # a savepoint inside the caller's transaction
            record = ProvenanceRecord.objects.create(
                content_sha256=sha,
                pdq=pdq,
                pdq_quality=pdq_quality,
                owner_user=user,
                parent=parent,
                manifest=manifest or {},
                disclosure=disclosure or {},
                watermark_key=watermark_key,
                **fields,
            )
    except IntegrityError:  # registered concurrently by someone else
        return ProvenanceRecord.objects.get(content_sha256=sha)
    transaction.on_commit(_enqueue_batcher_if_full)
    return record


def _enqueue_batcher_if_full() -> None:
    if ProvenanceRecord.objects.filter(state=RecordState.PENDING).count() >= conf.get("PROVENANCE_BATCH_MAX"):
        enqueue_once(provenance_batch)


def ownership_transfer(
    *,
    content_sha256: str,
    from_ref: str,
    to_ref: str,
    reference: str,
    user: Any = None,
    occurred_at: datetime | None = None,
) -> OwnershipEvent:
    """Record that the content passed from `from_ref` to `to_ref` (an outbox transaction puts it on chain).
    Idempotent per `reference` (e.g. the order that caused it): the same call again returns the same event.
    `user` (optional) is the new owner's account, to whom provenance.ownership_transferred is addressed."""
    sha = _sha256_or_400(content_sha256, "content_sha256")
    from_ref, to_ref = _reference_or_400(from_ref, "from_ref"), _reference_or_400(to_ref, "to_ref")
    reference = _reference_or_400(reference, "reference")
    if from_ref == to_ref:
        raise InvalidInput("from_ref and to_ref are the same owner.", field="to_ref", code=ProvenanceError.SAME_OWNER)
    with transaction.atomic():
        record = lock_record_of(content_sha256=sha)
        if record is None:
            raise NotFound(f"No provenance record for sha256 {sha}.", code=ProvenanceError.NOT_REGISTERED)
        # checked under the record's lock, so a concurrent call with the same reference sees the first one
        existing = OwnershipEvent.objects.filter(reference=reference).first()
        if existing is not None:
            if (existing.content_sha256, existing.from_ref, existing.to_ref) != (sha, from_ref, to_ref):
                raise Conflict(
                    f"The reference {reference!r} already recorded a different transfer.",
                    code=ProvenanceError.REFERENCE_REUSED,
                )
            return existing
        if record.owner != from_ref:
            raise Conflict(
                f"The content is owned by {record.owner!r}, not {from_ref!r}.",
                code=ProvenanceError.NOT_CURRENT_OWNER,
                owner=record.owner,
            )
        tx = ChainTransaction.objects.create(
            chain_id=settings.CHAIN_ID,
            kind=TxKind.RECORD_TRANSFER,
            payload={"content_sha256": sha, "from_ref": from_ref, "to_ref": to_ref},
        )
        event = OwnershipEvent.objects.create(
            record=record,
            content_sha256=sha,
            from_ref=from_ref,
            to_ref=to_ref,
            reference=reference,
            occurred_at=occurred_at or timezone.now(),
            to_user=user,
            transaction=tx,
        )
        record.owner, record.owner_user = to_ref, user
        record.save(update_fields=["owner", "owner_user", "updated_at"])
        event_emit(
            type="provenance.ownership_transferred",
            user=user,
            payload={
                "record_id": str(record.public_id),
                "content_sha256": sha,
                "subject": record.subject,
                "from": from_ref,
                "to": to_ref,
                "reference": reference,
                "transfer_id": str(event.public_id),
            },
        )
    return event
