"""The batcher: pending records -> one Merkle tree -> each record's leaf index and proof, and one outbox
transaction anchoring the root. Also the operator's re-anchor action."""

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidTransition
from core.jobs import enqueue_once
from provenance import conf
from provenance.locks import claim_pending_records, lock_batch
from provenance.models import (
    AnchorBatch,
    AnchorState,
    ChainTransaction,
    ProvenanceRecord,
    RecordState,
    TxKind,
    TxState,
)
from provenance.proofs.encoding import hex0x, leaf_for
from provenance.proofs.merkle import MerkleTree
from provenance.services.outbox import work_requeue
from provenance.tasks import provenance_send

MAX_BATCHES_PER_RUN = 100


def _batch_records(records: Sequence[ProvenanceRecord], *, chain_id: int) -> AnchorBatch:
    """Tree, proofs and the anchor's outbox row for records already locked (or not yet saved)."""
    tree = MerkleTree.build([leaf_for(content_sha256=r.content_sha256, pdq=r.pdq, creator=r.creator) for r in records])
    root = hex0x(tree.root)
    tx = ChainTransaction.objects.create(
        chain_id=chain_id, kind=TxKind.ANCHOR_BATCH, payload={"root": root, "leaf_count": tree.leaf_count}
    )
    batch = AnchorBatch.objects.create(chain_id=chain_id, root=root, leaf_count=tree.leaf_count, transaction=tx)
    for index, record in enumerate(records):
        record.state, record.batch, record.leaf_index = RecordState.BATCHED, batch, index
        record.proof = b"".join(tree.proof(index))
    return batch


def batch_build(*, max_records: int | None = None) -> AnchorBatch | None:
    """Batch up to PROVENANCE_BATCH_MAX pending records, oldest first; None when none is pending. Rows are
    claimed with SKIP LOCKED, so concurrent batchers build disjoint batches."""
    limit = max_records or conf.get("PROVENANCE_BATCH_MAX")
    with transaction.atomic():
        records = claim_pending_records(limit=limit)
        if not records:
            return None
        batch = _batch_records(records, chain_id=settings.CHAIN_ID)
        for record in records:
            record.updated_at = timezone.now()
        ProvenanceRecord.objects.bulk_update(records, ["state", "batch", "leaf_index", "proof", "updated_at"])
        transaction.on_commit(enqueue_sender)
    return batch


def batches_build() -> list[AnchorBatch]:
    """Drain the pending records into batches."""
    batches = []
    for _ in range(MAX_BATCHES_PER_RUN):
        batch = batch_build()
        if batch is None:
            break
        batches.append(batch)
    return batches


def enqueue_sender() -> None:
    enqueue_once(provenance_send)


def batch_reanchor(*, batch: AnchorBatch) -> AnchorBatch:
    """Operator action: anchor a batch whose transaction failed or was lost again, with a new transaction."""
    with transaction.atomic():
        locked = lock_batch(batch.pk)
        tx = locked.transaction
        if tx is not None and tx.state not in (TxState.FAILED, TxState.LOST):
            raise InvalidTransition(
                entity="batch", state=f"{locked.state} (transaction {tx.state})", action="re-anchor"
            )
        if tx is None:
            tx = ChainTransaction.objects.create(
                chain_id=locked.chain_id,
                kind=TxKind.ANCHOR_BATCH,
                payload={"root": locked.root, "leaf_count": locked.leaf_count},
            )
            locked.transaction, locked.state = tx, AnchorState.PENDING
            locked.save()
        else:
            work_requeue(tx=tx)
        transaction.on_commit(enqueue_sender)
    locked.refresh_from_db()
    return locked
