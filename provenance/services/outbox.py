"""Outbox primitives shared by the sender, the confirmer and the reconciler: store a signed transaction,
broadcast it, find out what the node knows of it, and re-queue the work of a transaction that is lost."""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from provenance.chain.errors import TransactionRejected
from provenance.chain.fees import Fees
from provenance.chain.transactions import SignedTx, TxRequest, TxStatus, broadcast, tx_status
from provenance.connection import Chain
from provenance.locks import lock_batches_of, lock_ownership_events_of, lock_signed_transactions, lock_transaction
from provenance.models import (
    AnchorBatch,
    AnchorState,
    ChainTransaction,
    OwnershipEvent,
    ProvenanceRecord,
    RecordState,
    TxKind,
    TxState,
)
from provenance.nonces import DatabaseNonceAllocator

logger = logging.getLogger("atelier.provenance")

# What nodes answer when the nonce of a raw transaction is already used on chain.
NONCE_USED_PHRASES = ("nonce too low", "nonce has already been used", "oldnonce", "nonce is too low")


def store_signed(*, tx: ChainTransaction, signed: SignedTx) -> None:
    """Record the signed bytes on the row (inside the transaction that allocated the nonce)."""
    tx.sender, tx.nonce = signed.sender, signed.nonce
    tx.to_address = signed.request.to or ""
    tx.data = signed.request.data
    tx.gas = signed.gas
    tx.max_fee_per_gas = signed.fees.max_fee_per_gas
    tx.max_priority_fee_per_gas = signed.fees.max_priority_fee_per_gas
    tx.raw, tx.tx_hash = signed.raw, signed.hash_hex
    tx.hashes = [*tx.hashes, signed.hash_hex]
    tx.state, tx.signed_at = TxState.SIGNED, timezone.now()
    tx.save()


def signed_from_row(tx: ChainTransaction) -> SignedTx:
    """The engine's SignedTx for a stored row (what `replace` needs to re-sign it)."""
    request = TxRequest(to=tx.to_address or None, data=bytes(tx.data or b""), gas=tx.gas)
    fees = Fees(max_fee_per_gas=tx.max_fee_per_gas, max_priority_fee_per_gas=tx.max_priority_fee_per_gas)
    return SignedTx(
        raw=bytes(tx.raw),
        tx_hash=bytes.fromhex(tx.tx_hash[2:]),
        sender=tx.sender,
        nonce=tx.nonce,
        chain_id=tx.chain_id,
        fees=fees,
        gas=tx.gas,
        request=request,
    )


def status_any(*, chain: Chain, tx: ChainTransaction, confirmations: int) -> tuple[str, TxStatus]:
    """What the node knows of any of the row's hashes (a replacement or its original may be the one mined)."""
    hashes = list(dict.fromkeys([*reversed(tx.hashes), tx.tx_hash]))
    pending: tuple[str, TxStatus] | None = None
    for tx_hash in filter(None, hashes):
        status = tx_status(chain.w3, tx_hash, confirmations=confirmations)
        if status.state in ("mined", "confirmed"):
            return tx_hash, status
        if status.state == "pending" and pending is None:
            pending = (tx_hash, status)
    return pending or (tx.tx_hash, TxStatus(state="unknown"))


def transaction_broadcast(*, chain: Chain, tx: ChainTransaction) -> str:
    """Send the stored raw bytes (again). Returns "sent", "lost" (its nonce was used by another
    transaction; the work is re-queued) or "rejected" (kept for a later attempt, with the node's reason)."""
    if not tx.raw:  # an adopted transaction someone else signed: nothing of ours to send again
        return transaction_settle_or_lose(chain=chain, tx=tx, reason="no stored bytes to broadcast")
    try:
        broadcast(chain.w3, bytes(tx.raw))
    except TransactionRejected as exc:
        message = str(exc)
        if any(phrase in message.lower() for phrase in NONCE_USED_PHRASES):
            return transaction_settle_or_lose(chain=chain, tx=tx, reason=message)
        ChainTransaction.objects.filter(pk=tx.pk).update(attempts=F("attempts") + 1, last_error=message[:2000])
        logger.warning("broadcast of %s rejected: %s", tx, message)
        return "rejected"
    now = timezone.now()
    with transaction.atomic():
        locked = lock_transaction(tx.pk)
        locked.attempts += 1
        locked.last_broadcast_at, locked.last_error = now, ""
        if locked.state == TxState.SIGNED:
            locked.state = TxState.SENT
            locked.sent_at = locked.sent_at or now
        locked.save()
        AnchorBatch.objects.filter(transaction=locked, state=AnchorState.PENDING).update(state=AnchorState.SENT)
        OwnershipEvent.objects.filter(transaction=locked, state=AnchorState.PENDING).update(state=AnchorState.SENT)
    tx.refresh_from_db()
    return "sent"


def transaction_settle_or_lose(*, chain: Chain, tx: ChainTransaction, reason: str) -> str:
    """The node will not take the row's raw bytes because its nonce is used: by one of our own hashes
    (then it is only a matter of confirming it) or by something else (then the row is lost)."""
    tx_hash, status = status_any(chain=chain, tx=tx, confirmations=1)
    if status.state != "unknown":
        with transaction.atomic():
            locked = lock_transaction(tx.pk)
            if locked.state == TxState.SIGNED:
                locked.state, locked.sent_at = TxState.SENT, locked.sent_at or timezone.now()
            locked.tx_hash = tx_hash
            locked.save()
        return "sent"
    with transaction.atomic():
        locked = lock_transaction(tx.pk)
        if locked.state in (TxState.LOST, TxState.PENDING):
            return "lost"
        transaction_lose(tx=locked, reason=f"nonce {locked.nonce} was used by another transaction: {reason}")
    return "lost"


def transaction_lose(*, tx: ChainTransaction, reason: str) -> ChainTransaction | None:
    """Mark a (locked) row LOST and re-queue its work as a new PENDING row; returns the new row."""
    tx.state, tx.last_error = TxState.LOST, reason[:2000]
    tx.save(update_fields=["state", "last_error", "updated_at"])
    logger.warning("transaction %s lost: %s", tx, reason)
    return work_requeue(tx=tx)


def work_requeue(*, tx: ChainTransaction) -> ChainTransaction | None:
    """A fresh PENDING outbox row for whatever still depends on `tx` (a batch, ownership events), which go
    back to waiting for it. Deployments are not re-queued (deployment_ensure deploys when needed)."""
    batches, events = lock_batches_of(tx), lock_ownership_events_of(tx)
    if tx.kind == TxKind.DEPLOY or not (batches or events):
        return None
    new = ChainTransaction.objects.create(chain_id=tx.chain_id, kind=tx.kind, payload=tx.payload)
    ChainTransaction.objects.filter(pk=tx.pk).update(replaced_by=new)
    for batch in batches:
        batch.transaction, batch.state = new, AnchorState.PENDING
        batch.block_number, batch.confirmations, batch.anchored_at, batch.confirmed_at = None, 0, None, None
        batch.registry_address = ""
        batch.save()
        ProvenanceRecord.objects.filter(batch=batch).exclude(state=RecordState.BATCHED).update(
            state=RecordState.BATCHED, anchored_at=None, confirmed_at=None, updated_at=timezone.now()
        )
    for event in events:
        event.transaction, event.state, event.block_number = new, AnchorState.PENDING, None
        event.save()
    return new


def chain_reset_recover(*, chain: Chain, reason: str) -> dict[str, int]:
    """The chain forgot everything (a dev chain restarted without state): every signed transaction on it is
    lost, the sender's nonce restarts where the node says, and their work is queued again."""
    floor = chain.nonce(block="pending")
    allocator = DatabaseNonceAllocator(chain_id=chain.chain_id)
    requeued = 0
    with transaction.atomic():
        allocator.lock(chain.sender)
        for tx in lock_signed_transactions(chain_id=chain.chain_id):
            requeued += transaction_lose(tx=tx, reason=f"chain reset: {reason}") is not None
        allocator.resync(chain.sender, next_nonce=floor)
    return {"requeued": requeued}
