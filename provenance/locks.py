"""Every row lock the provenance app takes (select_for_update), held until the caller's transaction ends: call
these inside transaction.atomic(). Rows of one table are locked in primary-key order, so two transactions that
lock overlapping sets of rows queue behind each other instead of deadlocking."""

from provenance.models import (
    AnchorBatch,
    ChainDeployment,
    ChainTransaction,
    GasBreaker,
    OwnershipEvent,
    ProvenanceRecord,
    RecordState,
    SenderNonce,
    TxKind,
    TxState,
)


def lock_sender_nonce(*, chain_id: int, sender: str, first_nonce: int) -> SenderNonce:
    """The sender's nonce row, created with `first_nonce` on first use."""
    SenderNonce.objects.get_or_create(chain_id=chain_id, sender=sender, defaults={"next_nonce": first_nonce})
    return SenderNonce.objects.select_for_update().get(chain_id=chain_id, sender=sender)


def lock_transaction(pk: int) -> ChainTransaction:
    return ChainTransaction.objects.select_for_update().get(pk=pk)


def lock_oldest_pending_transaction(*, chain_id: int) -> ChainTransaction | None:
    """The oldest PENDING outbox row the sender signs (deployments are signed by deployment_ensure)."""
    return (
        ChainTransaction.objects.select_for_update()
        .filter(chain_id=chain_id, state=TxState.PENDING)
        .exclude(kind=TxKind.DEPLOY)
        .order_by("id")
        .first()
    )


def lock_pending_transfers(*, besides: ChainTransaction, limit: int) -> list[ChainTransaction]:
    """Up to `limit` PENDING transfer rows of `besides`' chain other than `besides`, oldest first."""
    return list(
        ChainTransaction.objects.select_for_update()
        .filter(chain_id=besides.chain_id, state=TxState.PENDING, kind=TxKind.RECORD_TRANSFER)
        .exclude(pk=besides.pk)
        .order_by("id")[:limit]
    )


def lock_signed_transactions(*, chain_id: int) -> list[ChainTransaction]:
    """Every row of the chain that was signed and is not lost yet, in nonce order."""
    rows = list(
        ChainTransaction.objects.select_for_update()
        .filter(chain_id=chain_id)
        .exclude(state__in=[TxState.PENDING, TxState.LOST])
        .order_by("id")
    )
    return sorted(rows, key=lambda tx: (tx.nonce is not None, tx.nonce or 0, tx.id))


def lock_batches_of(tx: ChainTransaction) -> list[AnchorBatch]:
    return list(AnchorBatch.objects.select_for_update().filter(transaction=tx).order_by("id"))


def lock_ownership_events_of(tx: ChainTransaction) -> list[OwnershipEvent]:
    return list(OwnershipEvent.objects.select_for_update().filter(transaction=tx).order_by("id"))


def lock_batch(pk: int) -> AnchorBatch:
    return AnchorBatch.objects.select_for_update().get(pk=pk)


def claim_pending_records(*, limit: int) -> list[ProvenanceRecord]:
    """Up to `limit` PENDING records, oldest first, skipping rows another batcher holds (SKIP LOCKED), so
    concurrent batchers claim disjoint sets."""
    return list(
        ProvenanceRecord.objects.select_for_update(skip_locked=True)
        .filter(state=RecordState.PENDING)
        .order_by("id")[:limit]
    )


def lock_record_of(*, content_sha256: str) -> ProvenanceRecord | None:
    return ProvenanceRecord.objects.select_for_update().filter(content_sha256=content_sha256).first()


def lock_deployment(*, chain_id: int) -> ChainDeployment | None:
    return ChainDeployment.objects.select_for_update().filter(chain_id=chain_id).first()


def lock_gas_breaker(*, chain_id: int) -> GasBreaker:
    breaker, _ = GasBreaker.objects.select_for_update().get_or_create(chain_id=chain_id)
    return breaker
