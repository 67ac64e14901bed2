"""Provenance reads. Provenance is public by design (anyone may verify a file), so these take no acting user:
records expose only hashes and opaque references. Chain facts are read from the node, not the database."""

import hashlib
import io
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from PIL import Image

from core.errors import InvalidInput
from core.uploads import image_clean
from provenance import conf
from provenance.errors import ProvenanceError
from provenance.fingerprints.hashing import PDQ_BITS, PDQ_MATCH_DISTANCE, hamming_distance, pdq_from_bytes
from provenance.index import record_index
from provenance.models import (
    AnchorBatch,
    AnchorState,
    ChainDeployment,
    ChainTransaction,
    ContentCredential,
    OwnershipEvent,
    ProvenanceRecord,
    RecordState,
    TxState,
)
from provenance.proofs.encoding import hex0x, leaf_for, normalize_sha256, reference_hash

logger = logging.getLogger("atelier.provenance")

VERIFY_RPC_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class NearDuplicate:
    record: ProvenanceRecord
    distance: int


def near_duplicates(
    *,
    pdq: str,
    max_distance: int = PDQ_MATCH_DISTANCE,
    exclude_content_sha256: str | None = None,
    exclude_ids: tuple[int, ...] = (),
    limit: int = 50,
) -> list[NearDuplicate]:
    """Registered records whose PDQ lies within `max_distance` bits, nearest first (run it before
    registering). Low-quality hashes (PROVENANCE_PDQ_MIN_QUALITY) match noise and are never matched."""
    query = normalize_sha256(pdq) if isinstance(pdq, str) else None
    if query is None:
        raise InvalidInput("pdq must be 64 hexadecimal characters.", field="pdq", code=ProvenanceError.INVALID_PDQ)
    if isinstance(max_distance, bool) or not isinstance(max_distance, int) or not 0 <= max_distance <= PDQ_BITS:
        raise InvalidInput(f"max_distance must be an integer from 0 to {PDQ_BITS}.", field="max_distance")
    matches = record_index().search(query, max_distance=max_distance)
    records = ProvenanceRecord.objects.in_bulk([match.id for match in matches])
    found = []
    for match in matches:
        record = records.get(match.id)
        if record is None or record.id in exclude_ids or record.content_sha256 == exclude_content_sha256:
            continue
        distance = hamming_distance(record.pdq, query)  # from the row itself, never a stale index entry
        if distance <= max_distance:
            found.append(NearDuplicate(record=record, distance=distance))
    found.sort(key=lambda item: (item.distance, item.record.id))
    return found[:limit]


def pdq_match_distance(*, width: int, height: int) -> int:
    """The PDQ distance within which an image of this size matches. PDQ works on a 64x64 reduction, so below
    ~128 px a JPEG re-save moves many more bits (a 32 px GAN output re-saved at quality 75: median 34 bits,
    95th percentile 44) while different works from one model stay far apart (nearest of 1,000: 68)."""
    if min(width, height) < conf.get("PROVENANCE_PDQ_SMALL_SIDE"):
        return conf.get("PROVENANCE_PDQ_SMALL_MATCH_DISTANCE")
    return PDQ_MATCH_DISTANCE


def record_by_sha256(*, sha256: str) -> ProvenanceRecord | None:
    return ProvenanceRecord.objects.select_related("batch", "batch__transaction").filter(content_sha256=sha256).first()


def record_by_public_id(*, public_id: Any) -> ProvenanceRecord | None:
    return ProvenanceRecord.objects.select_related("batch", "batch__transaction").filter(public_id=public_id).first()


def record_by_subject(*, subject: str) -> ProvenanceRecord | None:
    return (
        ProvenanceRecord.objects.select_related("batch", "batch__transaction")
        .filter(subject=subject)
        .order_by("id")
        .first()
    )


LINEAGE_MAX_DEPTH = 16  # a fine-tune of a fine-tune of ...: far deeper than any real chain


def lineage_of(*, record: ProvenanceRecord) -> list[ProvenanceRecord]:
    """The record's ancestors, oldest first (dataset, ..., model version), not the record itself."""
    chain: list[ProvenanceRecord] = []
    seen = {record.pk}
    parent_id = record.parent_id
    while parent_id is not None and parent_id not in seen and len(chain) < LINEAGE_MAX_DEPTH:
        parent = ProvenanceRecord.objects.select_related("batch", "batch__transaction").get(pk=parent_id)
        seen.add(parent.pk)
        chain.append(parent)
        parent_id = parent.parent_id
    return chain[::-1]


def licences_of(*, record: ProvenanceRecord) -> list[ProvenanceRecord]:
    """The licence-sale records under an artwork's record, oldest first."""
    return list(
        ProvenanceRecord.objects.select_related("batch", "batch__transaction")
        .filter(parent=record, manifest__kind="licence")
        .order_by("id")
    )


def owner_history(*, record: ProvenanceRecord) -> list[dict[str, Any]]:
    events = list(OwnershipEvent.objects.filter(record=record).select_related("transaction"))
    first_owner = events[0].from_ref if events else record.owner
    history = [
        {
            "kind": "registered",
            "from_ref": None,
            "to_ref": first_owner,
            "at": record.created_at,
            "state": record.state,
            "transaction_hash": _anchor_hash(record),
            "block_number": _anchor_block(record),
        }
    ]
    for event in events:
        tx = event.transaction
        mined = tx is not None and tx.state in (TxState.MINED, TxState.CONFIRMED)
        history.append(
            {
                "kind": "transfer",
                "from_ref": event.from_ref,
                "to_ref": event.to_ref,
                "at": event.occurred_at,
                "state": event.state,
                "transaction_hash": tx.tx_hash if mined else None,
                "block_number": event.block_number,
            }
        )
    return history


def _anchor_hash(record: ProvenanceRecord) -> str | None:
    batch = record.batch
    if batch is None or batch.transaction is None or batch.state not in (AnchorState.ANCHORED, AnchorState.CONFIRMED):
        return None
    return batch.transaction.tx_hash


def _anchor_block(record: ProvenanceRecord) -> int | None:
    return record.batch.block_number if _anchor_hash(record) else None


def anchor_of(*, record: ProvenanceRecord) -> dict[str, Any] | None:
    """Where the record is anchored, as the database knows it (None before its batch is mined)."""
    if _anchor_hash(record) is None:
        return None
    batch = record.batch
    return {
        "chain_id": batch.chain_id,
        "registry_address": batch.registry_address,
        "root": batch.root,
        "leaf": hex0x(leaf_for(content_sha256=record.content_sha256, pdq=record.pdq, creator=record.creator)),
        "leaf_index": record.leaf_index,
        "leaf_count": batch.leaf_count,
        "proof": [hex0x(node) for node in record.proof_nodes],
        "transaction_hash": batch.transaction.tx_hash,
        "block_number": batch.block_number,
        "confirmations": batch.confirmations,
        "anchored_at": batch.anchored_at,
    }


def chain_check(*, record: ProvenanceRecord) -> dict[str, Any]:
    """Check the record against the chain itself: the proof against the anchored root (the registry's
    verify_proof and batch_time views), the anchoring transaction's receipt, and the owner after transfers."""
    anchor = anchor_of(record=record)
    result: dict[str, Any] = {
        "status": "not_anchored",
        "proof_valid": None,
        "root_anchored_at": None,
        "block_number": None,
        "confirmations": None,
        "owner_matches": None,
        "checked_at": timezone.now(),
        "detail": "The record is not anchored on chain yet.",
    }
    if anchor is None:
        return result
    try:
        facts = _read_chain(record=record, anchor=anchor)
    except Exception as exc:
        if not _is_chain_failure(exc):
            raise
        logger.warning("chain check of %s failed: %s", record.content_sha256, exc)
        return result | {"status": "unavailable", "detail": "chain unavailable"}  # the error quotes the RPC URL
    if facts is None:
        return result | {
            "status": "not_verified",
            "detail": f"No registry contract at {anchor['registry_address']} on this chain.",
        }
    proof_valid, anchored_at, receipt, head, onchain_owner = facts
    problems = []
    if not proof_valid:
        problems.append("the proof does not lead to the root")
    if anchored_at is None:
        problems.append("the root is not anchored in the registry")
    if receipt is None or int(receipt["status"]) != 1:
        problems.append(f"the anchoring transaction {anchor['transaction_hash']} is not on chain")
    block = int(receipt["blockNumber"]) if receipt is not None else None
    transferred = OwnershipEvent.objects.filter(record=record, state=AnchorState.CONFIRMED).exists()
    return result | {
        "status": "not_verified" if problems else "verified",
        "proof_valid": proof_valid,
        "root_anchored_at": datetime.fromtimestamp(anchored_at, tz=UTC) if anchored_at else None,
        "block_number": block,
        "confirmations": head - block + 1 if block is not None else None,
        "owner_matches": (onchain_owner == reference_hash(record.owner)) if transferred else None,
        "detail": "; ".join(problems).capitalize() + "."
        if problems
        else "The Merkle proof leads to a root the registry anchored on chain.",
    }


def _read_chain(*, record: ProvenanceRecord, anchor: dict[str, Any]) -> tuple | None:
    from web3.exceptions import TransactionNotFound

    from provenance.connection import chain_connect

    chain = chain_connect(timeout=VERIFY_RPC_TIMEOUT_S, retries=1, signer=False)
    if not chain.has_code(anchor["registry_address"]):
        return None
    registry = chain.registry(anchor["registry_address"])
    root, leaf = bytes.fromhex(anchor["root"][2:]), bytes.fromhex(anchor["leaf"][2:])
    proof_valid = registry.verify_proof(root, leaf, record.proof_nodes)
    anchored_at = registry.batch_time(root)
    try:
        receipt = chain.w3.eth.get_transaction_receipt(anchor["transaction_hash"])
    except TransactionNotFound:
        receipt = None
    head = int(chain.w3.eth.block_number)
    onchain_owner = registry.current_owner(bytes.fromhex(record.content_sha256))
    return proof_valid, anchored_at, receipt, head, onchain_owner


def _is_chain_failure(exc: Exception) -> bool:
    """The node is down, serves another chain, or answered something unusable."""
    from web3.exceptions import Web3Exception

    from provenance.chain.errors import ChainError
    from provenance.connection import is_chain_down

    return is_chain_down(exc) or isinstance(exc, (Web3Exception, ChainError))


def verification_of_record(*, record: ProvenanceRecord) -> dict[str, Any]:
    """The record checked against the chain, with its lineage (dataset -> model version) and licence sales,
    each with its own anchor and Merkle proof (those are read from the database: the chain check is the
    record's own; the certificate's checker checks every one on chain)."""
    return {
        "record": record,
        "anchor": anchor_of(record=record),
        "chain_check": chain_check(record=record),
        "owner_history": owner_history(record=record),
        "lineage": [{"record": item, "anchor": anchor_of(record=item)} for item in lineage_of(record=record)],
        "licences": [{"record": item, "anchor": anchor_of(record=item)} for item in licences_of(record=record)],
    }


def verification_by_sha256(*, sha256: str) -> dict[str, Any] | None:
    """Exact match for a content hash, with the perceptual matches of that record's own PDQ."""
    record = record_by_sha256(sha256=sha256)
    if record is None:
        return None
    usable = record.pdq_quality >= conf.get("PROVENANCE_PDQ_MIN_QUALITY")
    similar = near_duplicates(pdq=record.pdq, exclude_ids=(record.id,)) if usable else []
    return {
        "query": {"sha256": sha256, "pdq": record.pdq, "pdq_quality": record.pdq_quality},
        "match": verification_of_record(record=record),
        "perceptual_matches": similar,
        "perceptual_matching": "ok" if usable else "quality_too_low",
    }


def verification_by_upload(*, raw: bytes, name: str = "file") -> dict[str, Any]:
    """Validate an uploaded image (size, format, hidden payloads) and look it up: sha256 of the bytes exactly
    as uploaded (what was registered), or of the bytes without their Content Credentials (a signed download),
    the manifest those credentials carry, PDQ of its pixels for perceptual matches."""
    clean = image_clean(raw=raw, name=name, max_bytes=conf.get("PROVENANCE_VERIFY_MAX_BYTES"))
    pdq = pdq_from_bytes(clean.data)
    sha256 = clean.original_sha256
    record = record_by_sha256(sha256=sha256)
    credentials = content_credentials_of(raw=raw, sha256=sha256)
    unsigned_sha256 = credentials.pop("sha256_without_manifest")
    if record is None and unsigned_sha256:
        record = record_by_sha256(sha256=unsigned_sha256)
    usable = pdq.quality >= conf.get("PROVENANCE_PDQ_MIN_QUALITY")
    distance = pdq_match_distance(width=clean.width, height=clean.height)
    similar = near_duplicates(pdq=pdq.hash_hex, max_distance=distance, exclude_content_sha256=sha256) if usable else []
    return {
        "query": {
            "sha256": sha256,
            "sha256_without_manifest": unsigned_sha256,
            "pdq": pdq.hash_hex,
            "pdq_quality": pdq.quality,
        },
        "match": verification_of_record(record=record) if record else None,
        "perceptual_matches": similar,
        "perceptual_matching": "ok" if usable else "quality_too_low",
        "watermark": None if record or similar else watermark_match(raw=clean.data),
        "content_credentials": credentials,
    }


def content_credentials_of(*, raw: bytes, sha256: str) -> dict[str, Any]:
    """What the file's C2PA manifest says, validated against Atelier's trust anchors. The record its Atelier
    assertion names is looked up only when the manifest is trusted and intact: anyone can write a claim."""
    from provenance.credentials import c2pa_manifests
    from provenance.services.credentials import trust_anchors_pem

    reading = c2pa_manifests.read(data=raw, trust_anchors_pem=trust_anchors_pem())
    assertions = reading.assertions
    atelier = reading.atelier
    record = None
    if reading.status == "trusted" and atelier and isinstance(atelier.get("record_id"), str):
        record = _record_by_public_id_text(atelier["record_id"])
    stripped = c2pa_manifests.strip_manifest(raw) if reading.status != "absent" else None
    issued = ContentCredential.objects.filter(asset_sha256=sha256).select_related("record").first()
    return {
        "status": reading.status,
        "detail": reading.detail,
        "trusted": reading.status == "trusted",
        "validation_state": reading.validation_state,
        "signer": reading.signer,
        "failures": reading.failures[:20],
        "manifest_count": reading.manifest_count,
        "active_manifest": reading.active_manifest,
        "title": reading.title,
        "claim_generator": reading.claim_generator,
        "actions": (assertions.get("c2pa.actions.v2") or assertions.get("c2pa.actions") or {}).get("actions", []),
        "author": (assertions.get(c2pa_manifests.AUTHOR_LABEL) or {}).get("author", []),
        "training_mining": (assertions.get(c2pa_manifests.TRAINING_MINING_LABEL) or {}).get("entries"),
        "atelier": atelier,
        "ingredients": reading.ingredients,
        "record": record,
        "issued_by_atelier": issued is not None,
        "sha256_without_manifest": hashlib.sha256(stripped).hexdigest() if stripped else None,
    }


def _record_by_public_id_text(value: str) -> ProvenanceRecord | None:
    try:
        public_id = uuid.UUID(value)
    except ValueError:
        return None
    return record_by_public_id(public_id=public_id)


def manifest_digest_for_record(record: ProvenanceRecord) -> str | None:
    """The sha256 of the C2PA manifest store signed into the record's public preview, or None (signing was off,
    or the work was published before previews carried one). Certificates may quote it."""
    credential = ContentCredential.objects.filter(record=record, asset=ContentCredential.Asset.PREVIEW).first()
    return credential.manifest_sha256 if credential else None


def watermark_match(*, raw: bytes) -> dict[str, Any] | None:
    """The record an invisible watermark points to, by the key stored with it (ProvenanceRecord.watermark_key;
    the earliest record when two share one)."""
    from provenance.fingerprints.watermark import extract

    with Image.open(io.BytesIO(raw)) as image:
        found = extract(image.convert("RGB"))
    if found is None:
        return None
    prefix = found.key.hex()
    record = ProvenanceRecord.objects.filter(watermark_key=prefix).order_by("id").first()
    return {"key": prefix, "confidence": round(found.confidence, 3), "record": record}


def chain_status() -> dict[str, Any]:
    """For operators (admin): is the node reachable, the registry, the sender's balance, the outbox, the
    daily gas budget and its breaker."""
    from provenance.connection import chain_connect
    from provenance.services.gas_budget import gas_budget_status

    latest = AnchorBatch.objects.order_by("-id").select_related("transaction").first()
    status: dict[str, Any] = {
        "rpc_url": settings.CHAIN_RPC_URL,
        "chain_id": settings.CHAIN_ID,
        "reachable": False,
        "pending_records": ProvenanceRecord.objects.filter(state=RecordState.PENDING).count(),
        "latest_batch": latest,
        "latest_batch_confirmations": None,  # counted against the node's head now, when it answers
        "in_flight_transactions": ChainTransaction.objects.filter(
            chain_id=settings.CHAIN_ID, state__in=[TxState.PENDING, TxState.SIGNED, TxState.SENT, TxState.MINED]
        ).count(),
        "deployment": ChainDeployment.objects.filter(chain_id=settings.CHAIN_ID).first(),
        "gas_budget": gas_budget_status(chain_id=settings.CHAIN_ID),
    }
    try:
        chain = chain_connect(timeout=VERIFY_RPC_TIMEOUT_S, retries=1)
        status |= {
            "reachable": True,
            "latest_block": int(chain.w3.eth.block_number),
            "sender": chain.sender,
            "sender_balance_wei": int(chain.w3.eth.get_balance(chain.sender)),
        }
        if latest is not None and latest.block_number is not None:
            status["latest_batch_confirmations"] = max(0, status["latest_block"] - latest.block_number + 1)
        deployment = status["deployment"]
        status["registry_has_code"] = chain.has_code(deployment.registry_address) if deployment else None
    except Exception as exc:
        status["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return status
