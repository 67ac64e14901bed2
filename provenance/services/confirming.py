"""The confirmer: follow sent transactions into blocks and down to CHAIN_CONFIRMATIONS, and move their batches,
records and ownership events along (anchored, then confirmed), emitting one event per record and step."""

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.events import event_emit
from provenance.chain.transactions import replay_revert
from provenance.connection import Chain
from provenance.locks import lock_batches_of, lock_transaction
from provenance.models import (
    AnchorBatch,
    AnchorState,
    ChainDeployment,
    ChainTransaction,
    OwnershipEvent,
    RecordState,
    TxKind,
    TxState,
)
from provenance.proofs.encoding import from_hex0x
from provenance.services.outbox import status_any

logger = logging.getLogger("atelier.provenance")

ALREADY_ANCHORED = "batch root already anchored"


def transactions_confirm(*, chain: Chain) -> dict[str, int]:
    required = settings.CHAIN_CONFIRMATIONS
    counts = {"mined": 0, "confirmed": 0, "failed": 0, "waiting": 0}
    watched = ChainTransaction.objects.filter(
        chain_id=chain.chain_id, state__in=[TxState.SIGNED, TxState.SENT, TxState.MINED]
    ).order_by("nonce")
    for tx in watched:
        tx_hash, status = status_any(chain=chain, tx=tx, confirmations=required)
        if status.state not in ("mined", "confirmed"):
            counts["waiting"] += 1
            continue
        if not status.success:
            reason = replay_revert(chain.w3, tx_hash).reason
            transaction_record_failure(
                chain=chain, tx=tx, tx_hash=tx_hash, block_number=status.block_number, reason=reason
            )
            counts["failed"] += 1
            continue
        block_time = datetime.fromtimestamp(int(chain.w3.eth.get_block(status.block_number)["timestamp"]), tz=UTC)
        transaction_record_inclusion(
            tx=tx,
            tx_hash=tx_hash,
            block_number=status.block_number,
            depth=status.depth,
            required=required,
            block_time=block_time,
        )
        counts["confirmed" if status.depth >= required else "mined"] += 1
    return counts


def transaction_record_inclusion(
    *, tx: ChainTransaction, tx_hash: str, block_number: int, depth: int, required: int, block_time: datetime
) -> None:
    """Idempotent: each record moves batched -> anchored -> confirmed once, with one event per step."""
    with transaction.atomic():
        locked = lock_transaction(tx.pk)
        if locked.state in (TxState.LOST, TxState.FAILED):
            return
        state = TxState.CONFIRMED if depth >= required else TxState.MINED
        locked.state, locked.tx_hash = state, tx_hash
        locked.block_number, locked.confirmations = block_number, depth
        locked.save()
        for batch in lock_batches_of(locked):
            _advance_batch(batch=batch, tx=locked, confirmed=state == TxState.CONFIRMED, block_time=block_time)
        event_state = AnchorState.CONFIRMED if state == TxState.CONFIRMED else AnchorState.ANCHORED
        OwnershipEvent.objects.filter(transaction=locked).exclude(state=AnchorState.CONFIRMED).update(
            state=event_state, block_number=block_number, updated_at=timezone.now()
        )


def _advance_batch(*, batch: AnchorBatch, tx: ChainTransaction, confirmed: bool, block_time: datetime) -> None:
    now = timezone.now()
    batch.block_number, batch.confirmations = tx.block_number, tx.confirmations
    if batch.state in (AnchorState.PENDING, AnchorState.SENT, AnchorState.FAILED):
        batch.state, batch.anchored_at = AnchorState.ANCHORED, block_time
        records = batch.records.filter(state=RecordState.BATCHED)
        _emit_for(records, type="provenance.anchored", batch=batch, tx=tx)
        records.update(state=RecordState.ANCHORED, anchored_at=block_time, updated_at=now)
    if confirmed and batch.state != AnchorState.CONFIRMED:
        batch.state, batch.confirmed_at = AnchorState.CONFIRMED, now
        records = batch.records.filter(state__in=[RecordState.BATCHED, RecordState.ANCHORED])
        _emit_for(records, type="provenance.confirmed", batch=batch, tx=tx)
        records.update(state=RecordState.CONFIRMED, confirmed_at=now, updated_at=now)
    batch.save()


def _emit_for(records, *, type: str, batch: AnchorBatch, tx: ChainTransaction) -> None:
    common = {
        "chain_id": tx.chain_id,
        "registry_address": batch.registry_address,
        "root": batch.root,
        "transaction_hash": tx.tx_hash,
        "block_number": tx.block_number,
        "confirmations": tx.confirmations,
    }
    for record in records.select_related("owner_user").only(
        "public_id", "content_sha256", "subject", "owner", "owner_user"
    ):
        event_emit(
            type=type,
            user=record.owner_user,
            payload={
                "record_id": str(record.public_id),
                "content_sha256": record.content_sha256,
                "subject": record.subject,
                "owner": record.owner,
                **common,
            },
        )


def transaction_record_failure(
    *, chain: Chain, tx: ChainTransaction, tx_hash: str, block_number: int, reason: str
) -> None:
    """The transaction reverted. A batch root that is already anchored (by an earlier transaction we lost
    track of) is adopted instead of failing."""
    anchor = _find_anchor(chain, tx) if tx.kind == TxKind.ANCHOR_BATCH and ALREADY_ANCHORED in reason else None
    with transaction.atomic():
        locked = lock_transaction(tx.pk)
        if locked.state in (TxState.LOST, TxState.FAILED, TxState.CONFIRMED):
            return
        locked.state, locked.tx_hash, locked.block_number = TxState.FAILED, tx_hash, block_number
        locked.last_error = f"reverted: {reason}"[:2000]
        locked.save()
        batches = lock_batches_of(locked)
        if anchor is not None and _adopt(failed=locked, batches=batches, anchor=anchor):
            return
        AnchorBatch.objects.filter(pk__in=[b.pk for b in batches]).update(state=AnchorState.FAILED)
        OwnershipEvent.objects.filter(transaction=locked).update(state=AnchorState.FAILED)
    logger.error("transaction %s reverted: %s", locked, reason)


def _find_anchor(chain: Chain, tx: ChainTransaction) -> dict | None:
    """The on-chain transaction that anchored this row's root: hash, sender, nonce."""
    deployment = ChainDeployment.objects.filter(chain_id=chain.chain_id).first()
    if deployment is None:
        return None
    events = chain.registry(deployment.registry_address).find_events(
        "BatchAnchored", from_block=deployment.block_number or 0, root=from_hex0x(tx.payload["root"])
    )
    if not events:
        return None
    onchain = chain.w3.eth.get_transaction(events[0].tx_hash)
    return {
        "hash": "0x" + events[0].tx_hash.hex(),
        "sender": onchain["from"],
        "nonce": int(onchain["nonce"]),
        "chain_id": chain.chain_id,
    }


def _adopt(*, failed: ChainTransaction, batches: list[AnchorBatch], anchor: dict) -> bool:
    """Point the batches at the transaction that did anchor their root (a row we know, or a new one)."""
    if not batches:
        return False
    adopted = ChainTransaction.objects.filter(chain_id=anchor["chain_id"], tx_hash=anchor["hash"]).first()
    try:
        with transaction.atomic():
            if adopted is None:
                adopted = ChainTransaction.objects.create(
                    chain_id=anchor["chain_id"],
                    kind=TxKind.ANCHOR_BATCH,
                    payload=failed.payload,
                    state=TxState.SENT,
                    sender=anchor["sender"],
                    nonce=anchor["nonce"],
                    tx_hash=anchor["hash"],
                    hashes=[anchor["hash"]],
                    sent_at=timezone.now(),
                    last_error=f"adopted: this transaction anchored the root that {failed.tx_hash} tried again",
                )
            elif adopted.state in (TxState.LOST, TxState.FAILED):
                ChainTransaction.objects.filter(pk=adopted.pk).update(state=TxState.SENT)
    except IntegrityError:
        return False
    for batch in batches:
        batch.transaction = adopted
        batch.state = AnchorState.SENT if batch.state in (AnchorState.PENDING, AnchorState.FAILED) else batch.state
        batch.save()
    return True
