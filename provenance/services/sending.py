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
from provenance.connection import Chain
from provenance.locks import lock_oldest_pending_transaction, lock_pending_transfers, lock_transaction
from provenance.models import AnchorBatch, ChainTransaction, OwnershipEvent, TxKind, TxState
from provenance.nonces import DatabaseNonceAllocator
from provenance.proofs.encoding import from_hex0x, reference_hash
from provenance.services.deployment import deployment_ensure
from provenance.services.gas_budget import gas_budget_allows, gas_budget_status
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
# record_transfers: the call's base cost and each transfer's (a fresh slot, two reads, one event), with margin;
# measured in tests/provenance/chain/test_registry.py
TRANSFERS_BASE_GAS, TRANSFER_GAS_EACH = 60_000, 40_000
MAX_SIGNED_PER_RUN = 500


def transfer_gas_limit(count: int) -> int:
    return GAS_LIMITS[TxKind.RECORD_TRANSFER] if count <= 1 else TRANSFERS_BASE_GAS + TRANSFER_GAS_EACH * count


def _request_for(*, chain: Chain, tx: ChainTransaction, registry_address: str) -> TxRequest:
    registry, payload = chain.registry(registry_address), tx.payload
    if tx.kind == TxKind.ANCHOR_BATCH:
        request = registry.anchor_batch(root=from_hex0x(payload["root"]), leaf_count=int(payload["leaf_count"]))
    elif tx.kind == TxKind.RECORD_TRANSFER and "transfers" in payload:
        request = registry.record_transfers(
            transfers=[
                (
                    bytes.fromhex(item["content_sha256"]),
                    reference_hash(item["from_ref"]),
                    reference_hash(item["to_ref"]),
                )
                for item in payload["transfers"]
            ]
        )
        return with_gas(request, transfer_gas_limit(len(payload["transfers"])))
    elif tx.kind == TxKind.RECORD_TRANSFER:
        request = registry.record_transfer(
            content_hash=bytes.fromhex(payload["content_sha256"]),
            previous_owner=reference_hash(payload["from_ref"]),
            new_owner=reference_hash(payload["to_ref"]),
        )
    else:
        raise ValueError(f"the sender does not sign {tx.kind} transactions")
    return with_gas(request, GAS_LIMITS[TxKind(tx.kind)])


def _fold_plan(tx: ChainTransaction) -> tuple[list[ChainTransaction], list[OwnershipEvent]]:
    """The other PENDING transfer rows (locked, oldest first) that fit into `tx`, and the events of all of
    them in the order they happened; ([], events of tx) when nothing is folded."""
    own = list(OwnershipEvent.objects.filter(transaction=tx).order_by("occurred_at", "id"))
    limit = int(conf.get("PROVENANCE_TRANSFER_BATCH_MAX"))
    if tx.kind != TxKind.RECORD_TRANSFER or limit <= 1 or len(own) >= limit:
        return [], own
    others = lock_pending_transfers(besides=tx, limit=limit - len(own))
    events = list(OwnershipEvent.objects.filter(transaction__in=[tx, *others]).order_by("occurred_at", "id"))
    if not others or len(events) > limit:
        return [], own
    return others, events


def transfers_fold(*, tx: ChainTransaction, others: list[ChainTransaction], events: list[OwnershipEvent]) -> None:
    """Fold the other PENDING transfer rows into the locked PENDING transfer row `tx`: their ownership events
    move to it, its payload lists every transfer in the order they happened, and the folded rows become MERGED
    (replaced_by `tx`). One record_transfers call then carries them all, paying the base cost once."""
    OwnershipEvent.objects.filter(transaction__in=others).update(transaction=tx)
    ChainTransaction.objects.filter(pk__in=[o.pk for o in others]).update(state=TxState.MERGED, replaced_by=tx)
    tx.payload = {
        "transfers": [{"content_sha256": e.content_sha256, "from_ref": e.from_ref, "to_ref": e.to_ref} for e in events]
    }
    tx.save(update_fields=["payload", "updated_at"])


def _max_cost(tx: ChainTransaction, events: list[OwnershipEvent], fees: Fees) -> int:
    """What signing `tx` (with what is folded into it) can cost at most."""
    gas = transfer_gas_limit(len(events)) if tx.kind == TxKind.RECORD_TRANSFER else GAS_LIMITS[TxKind(tx.kind)]
    return gas * fees.max_fee_per_gas


def transaction_sign_next(
    *, chain: Chain, registry_address: str, fees: Fees, chain_nonce: int
) -> ChainTransaction | None:
    """Sign the oldest PENDING row with the next nonce, both committed together; None when nothing waits or
    the daily gas budget would be passed (the breaker opens; the row stays PENDING). The nonce row is locked
    first, so concurrent senders sign in creation order without gaps and check the budget one at a time."""
    allocator = DatabaseNonceAllocator(chain_id=chain.chain_id, chain_floor={chain.sender: chain_nonce})
    with transaction.atomic():
        allocator.lock(chain.sender)
        tx = lock_oldest_pending_transaction(chain_id=chain.chain_id)
        if tx is None:
            return None
        others, events = _fold_plan(tx)
        if not gas_budget_allows(chain_id=chain.chain_id, cost_wei=_max_cost(tx, events, fees)):
            return None
        if others:
            transfers_fold(tx=tx, others=others, events=events)
        request = _request_for(chain=chain, tx=tx, registry_address=registry_address)
        signed = sign_tx(
            request=request,
            account=chain.signer,
            nonce=allocator.allocate(chain.sender),
            fees=fees,
            chain_id=chain.chain_id,
            gas=request.gas,
        )
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
        new = replace(
            chain.w3,
            original=original,
            account=chain.signer,
            ceiling=conf.get("CHAIN_MAX_FEE_PER_GAS_WEI"),
            current_fees=network_fees,
        )
    except FeeCeilingExceeded as exc:
        ChainTransaction.objects.filter(pk=tx.pk).update(last_error=str(exc))
        logger.warning("cannot re-price %s: %s", tx, exc)
        return "at fee ceiling"
    with transaction.atomic():
        locked = lock_transaction(tx.pk)
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
    counts = {
        "rebroadcast": 0,
        "signed": 0,
        "sent": 0,
        "lost": 0,
        "rejected": 0,
        "replaced": 0,
        "held_by_gas_budget": 0,
    }
    unsent = ChainTransaction.objects.filter(chain_id=chain.chain_id, state=TxState.SIGNED).order_by("nonce")
    for tx in unsent:  # signed, but a crash (or the node) stopped the broadcast
        counts["rebroadcast"] += 1
        counts[transaction_broadcast(chain=chain, tx=tx)] += 1
    if ChainTransaction.objects.filter(chain_id=chain.chain_id, state=TxState.PENDING).exists():
        registry_address = deployment_ensure(chain=chain).deployment.registry_address
        fees = suggest_fees(chain.w3)
        chain_nonce = chain.nonce(block="pending")
        for _ in range(MAX_SIGNED_PER_RUN):
            tx = transaction_sign_next(
                chain=chain, registry_address=registry_address, fees=fees, chain_nonce=chain_nonce
            )
            if tx is None:
                if gas_budget_status(chain_id=chain.chain_id).open:
                    counts["held_by_gas_budget"] = (
                        ChainTransaction.objects.filter(chain_id=chain.chain_id, state=TxState.PENDING)
                        .exclude(kind=TxKind.DEPLOY)
                        .count()
                    )
                break
            counts["signed"] += 1
            outcome = transaction_broadcast(chain=chain, tx=tx)
            counts[outcome] += 1
            if outcome == "rejected":  # e.g. out of funds: sign no more until the node takes this one
                break
    stuck_before = timezone.now() - timedelta(seconds=conf.get("PROVENANCE_REPLACE_AFTER_SECONDS"))
    stuck = ChainTransaction.objects.filter(chain_id=chain.chain_id, state=TxState.SENT, sent_at__lt=stuck_before)
    if stuck.exists() and not gas_budget_status(chain_id=chain.chain_id).open:  # a re-price raises the cost
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
            locked = lock_transaction(tx.pk)
            return "requeued" if work_requeue(tx=locked) is not None else "nothing depends on it"
    raise InvalidTransition(entity="transaction", state=tx.state, action="re-send")
