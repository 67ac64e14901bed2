"""The sender: sign pending outbox rows in creation order (nonce from the locked database row, raw bytes and
hash stored before broadcast), broadcast them, re-broadcast what a crash left unsent, re-price what is stuck."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.errors import InvalidTransition
from provenance import conf
from provenance.chain.errors import FeeCeilingExceeded
from provenance.chain.fees import Fees, suggest_fees
from provenance.chain.transactions import TxRequest, replace, sign_tx, with_gas
from provenance.encoding import from_hex0x, reference_hash
from provenance.models import AnchorBatch, ChainTransaction, TxKind, TxState
from provenance.nonce_allocator import DatabaseNonceAllocator
from provenance.services.chain import Chain
from provenance.services.deployment import deployment_ensure
from provenance.services.outbox import (
    signed_from_row,
    status_any,
    store_signed,
    transaction_broadcast,
    work_requeue,
)

logger = logging.getLogger("atelier.provenance")

# Both calls write one fresh storage slot and emit one event (~50k gas); a fixed limit keeps signing free of
# estimation, which would run against state that earlier, still pending transactions are about to change.
GAS_LIMITS = {TxKind.ANCHOR_BATCH: 120_000, TxKind.RECORD_TRANSFER: 120_000}
MAX_SIGNED_PER_RUN = 500


def _request_for(*, chain: Chain, tx: ChainTransaction, registry_address: str) -> TxRequest:
    registry, payload = chain.registry(registry_address), tx.payload
    if tx.kind == TxKind.ANCHOR_BATCH:
        request = registry.anchor_batch(root=from_hex0x(payload["root"]), leaf_count=int(payload["leaf_count"]))
    elif tx.kind == TxKind.RECORD_TRANSFER:
        request = registry.record_transfer(content_hash=bytes.fromhex(payload["content_sha256"]),
                                           previous_owner=reference_hash(payload["from_ref"]),
                                           new_owner=reference_hash(payload["to_ref"]))
    else:
        raise ValueError(f"the sender does not sign {tx.kind} transactions")
    return with_gas(request, GAS_LIMITS[TxKind(tx.kind)])


def transaction_sign_next(*, chain: Chain, registry_address: str, fees: Fees, chain_nonce: int
                          ) -> ChainTransaction | None:
    """Sign the oldest PENDING row with the next nonce, both committed together; None when nothing waits.
    The nonce row is locked first, so concurrent senders sign in creation order without gaps."""
    allocator = DatabaseNonceAllocator(chain_id=chain.chain_id, chain_floor={chain.sender: chain_nonce})
    with transaction.atomic():
        allocator.lock(chain.sender)
        tx = (ChainTransaction.objects.select_for_update().filter(chain_id=chain.chain_id, state=TxState.PENDING)
              .exclude(kind=TxKind.DEPLOY).order_by("id").first())
        if tx is None:
            return None
        request = _request_for(chain=chain, tx=tx, registry_address=registry_address)
        signed = sign_tx(request=request, private_key=chain.private_key, sender=chain.sender,
                         nonce=allocator.allocate(chain.sender), fees=fees, chain_id=chain.chain_id, gas=request.gas)
        store_signed(tx=tx, signed=signed)
        AnchorBatch.objects.filter(transaction=tx).update(registry_address=registry_address)
    return tx


def transaction_replace_if_stuck(*, chain: Chain, tx: ChainTransaction, network_fees: Fees) -> str:
    """Re-sign a transaction still pending in the pool with both fees bumped >= 12.5% (same nonce and
    payload) under CHAIN_MAX_FEE_PER_GAS_WEI; the new bytes are stored before they are broadcast."""
    _, status = status_any(chain=chain, tx=tx, confirmations=1)
    if status.state != "pending" or not tx.raw:
        return "not pending"
    original = signed_from_row(tx)
    try:
        new = replace(chain.w3, original=original, private_key=chain.private_key,
                      ceiling=conf.get("CHAIN_MAX_FEE_PER_GAS_WEI"), current_fees=network_fees)
    except FeeCeilingExceeded as exc:
        ChainTransaction.objects.filter(pk=tx.pk).update(last_error=str(exc))
        logger.warning("cannot re-price %s: %s", tx, exc)
        return "at fee ceiling"
    with transaction.atomic():
        locked = ChainTransaction.objects.select_for_update().get(pk=tx.pk)
        if locked.state != TxState.SENT or locked.tx_hash != original.hash_hex:
            return "changed meanwhile"
        locked.raw, locked.tx_hash = new.raw, new.hash_hex
        locked.hashes = [*locked.hashes, new.hash_hex]
        locked.max_fee_per_gas = new.fees.max_fee_per_gas
        locked.max_priority_fee_per_gas = new.fees.max_priority_fee_per_gas
        locked.replacements += 1
        locked.sent_at = timezone.now()
        locked.save()
    logger.info("re-priced %s: %s -> %s", locked, original.fees, new.fees)
    return transaction_broadcast(chain=chain, tx=locked)


def transactions_send(*, chain: Chain) -> dict[str, int]:
    """One sender pass; safe to run in several workers at once."""
    counts = {"rebroadcast": 0, "signed": 0, "sent": 0, "lost": 0, "rejected": 0, "replaced": 0}
    unsent = ChainTransaction.objects.filter(chain_id=chain.chain_id, state=TxState.SIGNED).order_by("nonce")
    for tx in unsent:  # signed, but a crash (or the node) stopped the broadcast
        counts["rebroadcast"] += 1
        counts[transaction_broadcast(chain=chain, tx=tx)] += 1
    if ChainTransaction.objects.filter(chain_id=chain.chain_id, state=TxState.PENDING).exists():
        registry_address = deployment_ensure(chain=chain).deployment.registry_address
        fees = suggest_fees(chain.w3)
        chain_nonce = chain.nonce(block="pending")
        for _ in range(MAX_SIGNED_PER_RUN):
            tx = transaction_sign_next(chain=chain, registry_address=registry_address, fees=fees,
                                       chain_nonce=chain_nonce)
            if tx is None:
                break
            counts["signed"] += 1
            outcome = transaction_broadcast(chain=chain, tx=tx)
            counts[outcome] += 1
            if outcome == "rejected":  # e.g. out of funds: sign no more until the node takes this one
                break
    stuck_before = timezone.now() - timedelta(seconds=conf.get("PROVENANCE_REPLACE_AFTER_SECONDS"))
    stuck = ChainTransaction.objects.filter(chain_id=chain.chain_id, state=TxState.SENT, sent_at__lt=stuck_before)
    if stuck.exists():
        network_fees = suggest_fees(chain.w3)
        for tx in stuck.order_by("nonce"):
            counts["replaced"] += transaction_replace_if_stuck(chain=chain, tx=tx, network_fees=network_fees) == "sent"
    return counts


def transaction_resend(*, chain: Chain, tx: ChainTransaction) -> str:
    """Operator action: broadcast a signed or sent transaction's stored bytes again now; a failed or lost
    one has its work queued again under a new transaction."""
    if tx.state in (TxState.SIGNED, TxState.SENT):
        return transaction_broadcast(chain=chain, tx=tx)
    if tx.state in (TxState.FAILED, TxState.LOST):
        with transaction.atomic():
            locked = ChainTransaction.objects.select_for_update().get(pk=tx.pk)
            return "requeued" if work_requeue(tx=locked) is not None else "nothing depends on it"
    raise InvalidTransition(entity="transaction", state=tx.state, action="re-send")
