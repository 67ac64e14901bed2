"""The reconciler: transactions the node no longer knows. A registry without code means the chain was reset:
everything on it is re-queued and the registry deployed again. Otherwise an unknown transaction whose nonce
is still free is re-broadcast from its stored bytes (same hash, nothing doubled), and one whose nonce was
used by another transaction is lost and its work queued again."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from provenance import conf
from provenance.connection import Chain
from provenance.locks import lock_transaction
from provenance.models import ChainDeployment, ChainTransaction, TxState
from provenance.services.deployment import deployment_ensure
from provenance.services.outbox import status_any, transaction_broadcast, transaction_lose

RECENT_BLOCKS = 128  # confirmed transactions this close to the head are checked for a rewound chain


def chain_reconcile(*, chain: Chain) -> dict[str, object]:
    deployment = ChainDeployment.objects.filter(chain_id=chain.chain_id).first()
    if deployment is None:
        return {"action": "none", "detail": "no registry deployed on this chain yet"}
    if not chain.has_code(deployment.registry_address):
        outcome = deployment_ensure(chain=chain)
        return {
            "action": outcome.action,
            "detail": outcome.message,
            "registry_address": outcome.deployment.registry_address,
        }
    counts = {"rebroadcast": 0, "lost": 0}
    head = int(chain.w3.eth.block_number)
    cutoff = timezone.now() - timedelta(seconds=conf.get("PROVENANCE_REBROADCAST_GRACE_SECONDS"))
    suspects = (
        ChainTransaction.objects.filter(chain_id=chain.chain_id, sender=chain.sender)
        .filter(
            Q(state=TxState.SIGNED, signed_at__lt=cutoff)
            | Q(state=TxState.SENT, sent_at__lt=cutoff)
            | Q(state=TxState.MINED)
            | Q(state=TxState.CONFIRMED, block_number__gt=head - RECENT_BLOCKS)
        )
        .order_by("nonce")
    )
    used_on_chain = None
    for tx in suspects:
        _, status = status_any(chain=chain, tx=tx, confirmations=settings.CHAIN_CONFIRMATIONS)
        if status.state != "unknown":
            continue
        if used_on_chain is None:
            used_on_chain = chain.nonce(block="latest")
        if tx.nonce < used_on_chain:
            with transaction.atomic():
                locked = lock_transaction(tx.pk)
                if locked.state not in (TxState.LOST, TxState.PENDING):
                    transaction_lose(tx=locked, reason=f"the node does not know it and nonce {tx.nonce} is used")
                    counts["lost"] += 1
            continue
        # Its nonce is still free: the same bytes go again. A row the chain forgot after mining it goes back
        # to SENT; its records keep their state (same hash, same proof), so no event is repeated.
        ChainTransaction.objects.filter(pk=tx.pk, state__in=[TxState.MINED, TxState.CONFIRMED]).update(
            state=TxState.SENT, block_number=None, confirmations=0, updated_at=timezone.now()
        )
        outcome = transaction_broadcast(chain=chain, tx=tx)
        counts["rebroadcast" if outcome == "sent" else "lost"] += outcome != "rejected"
    return {"action": "checked", **counts}
