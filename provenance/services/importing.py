"""Bulk registration of content hashed elsewhere (imports, backfills, the pipeline benchmark): records are
written already batched, with their leaf indexes, proofs and one anchor outbox row per batch, in one
transaction. Built for throughput: tens of thousands of records per second on SQLite."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from provenance import conf
from provenance.models import AnchorBatch, ChainTransaction, ProvenanceRecord, RecordState, TxKind
from provenance.proofs.encoding import hex0x, reference_hash
from provenance.proofs.merkle import MerkleTree, record_leaf
from provenance.services.batching import enqueue_sender

LOOKUP_CHUNK = 900  # under SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class RecordEntry:
    content_sha256: str  # lowercase hex
    pdq: str  # lowercase hex
    pdq_quality: int
    subject: str
    creator: str
    owner: str


@lru_cache(maxsize=65536)
def _creator_hash(creator: str) -> bytes:
    return reference_hash(creator)


def records_import(*, entries: Sequence[RecordEntry], batch_size: int | None = None) -> int:
    """Register many records at once; content already registered (or repeated in `entries`) is skipped.
    Returns the number of new records. Entries are trusted to be well-formed (normalize_sha256 them first
    when they come from outside); they are not announced as events one by one."""
    batch_size = batch_size or conf.get("PROVENANCE_BATCH_MAX")
    unique = list({entry.content_sha256: entry for entry in entries}.values())
    known: set[str] = set()
    for start in range(0, len(unique), LOOKUP_CHUNK):
        chunk = [entry.content_sha256 for entry in unique[start : start + LOOKUP_CHUNK]]
        known.update(ProvenanceRecord.objects.filter(content_sha256__in=chunk).values_list("content_sha256", flat=True))
    fresh = [entry for entry in unique if entry.content_sha256 not in known]
    if not fresh:
        return 0
    chunks = [fresh[start : start + batch_size] for start in range(0, len(fresh), batch_size)]
    trees = [
        MerkleTree.build(
            [
                record_leaf(
                    content_sha256=bytes.fromhex(e.content_sha256),
                    perceptual_hash=bytes.fromhex(e.pdq),
                    creator=_creator_hash(e.creator),
                )
                for e in chunk
            ]
        )
        for chunk in chunks
    ]
    chain_id = settings.CHAIN_ID
    with transaction.atomic():
        txs = ChainTransaction.objects.bulk_create(
            [
                ChainTransaction(
                    chain_id=chain_id,
                    kind=TxKind.ANCHOR_BATCH,
                    payload={"root": hex0x(tree.root), "leaf_count": tree.leaf_count},
                )
                for tree in trees
            ]
        )
        batches = AnchorBatch.objects.bulk_create(
            [
                AnchorBatch(chain_id=chain_id, root=hex0x(tree.root), leaf_count=tree.leaf_count, transaction=tx)
                for tree, tx in zip(trees, txs, strict=True)
            ]
        )
        rows = [
            {
                "content_sha256": e.content_sha256,
                "pdq": e.pdq,
                "pdq_quality": e.pdq_quality,
                "subject": e.subject,
                "creator": e.creator,
                "owner": e.owner,
                "batch_id": batch.pk,
                "leaf_index": index,
                "proof": b"".join(tree.proof(index)),
                "public_id": uuid.uuid4(),
            }
            for chunk, tree, batch in zip(chunks, trees, batches, strict=True)
            for index, e in enumerate(chunk)
        ]
        _insert_records(rows)
        transaction.on_commit(enqueue_sender)
    return len(fresh)


def _insert_records(rows: list[dict[str, Any]]) -> None:
    """executemany over the model's own table and columns. bulk_create prepares every value of every row
    through its field (most of the time of a 10,000-row import); here constant columns are prepared once
    and only the columns that need it (UUID, bytes) per row. A field this does not know fails loudly."""
    now = timezone.now()
    constants = {
        "created_at": now,
        "updated_at": now,
        "state": RecordState.BATCHED.value,
        "owner_user_id": None,
        "anchored_at": None,
        "confirmed_at": None,
        "parent_id": None,
        "manifest": {},
        "disclosure": {},
        "watermark_key": "",  # imported hashes name no file we marked
    }
    plain = {"content_sha256", "pdq", "pdq_quality", "subject", "creator", "owner", "batch_id", "leaf_index"}
    fields = [field for field in ProvenanceRecord._meta.concrete_fields if not field.primary_key]
    getters: list[Callable[[dict[str, Any]], Any]] = []
    for field in fields:
        name = field.attname
        if name in constants:
            prepared = field.get_db_prep_save(constants[name], connection)
            getters.append(lambda row, value=prepared: value)
        elif name in plain:
            getters.append(lambda row, name=name: row[name])
        elif name in ("public_id", "proof"):
            getters.append(lambda row, name=name, field=field: field.get_db_prep_save(row[name], connection))
        else:
            raise RuntimeError(f"records_import does not know how to fill ProvenanceRecord.{name}")
    quote = connection.ops.quote_name
    table = quote(ProvenanceRecord._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 (identifiers from the model)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[get(row) for get in getters] for row in rows])
