"""The registry deployment per chain: deployed once and remembered; deployed again when the remembered
address has no code any more (a dev chain reset), after the lost transactions of the old chain are re-queued."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from web3 import Web3

from provenance import conf
from provenance.chain.errors import ChainError
from provenance.chain.fees import suggest_fees
from provenance.chain.registry import ProvenanceRegistry
from provenance.chain.transactions import estimate_gas, replay_revert, sign_tx, wait_for_receipt
from provenance.connection import Chain
from provenance.locks import lock_deployment
from provenance.models import IN_FLIGHT_TX_STATES, ChainDeployment, ChainTransaction, TxKind, TxState
from provenance.nonces import DatabaseNonceAllocator
from provenance.services.outbox import chain_reset_recover, store_signed, transaction_broadcast


class DeploymentFailed(ChainError):
    pass


@dataclass(frozen=True)
class DeploymentOutcome:
    deployment: ChainDeployment
    action: str  # "existing" | "deployed" | "redeployed"
    message: str


def deployment_ensure(*, chain: Chain, timeout: float | None = None) -> DeploymentOutcome:
    """Idempotent: the remembered registry when it still has code, else a new deployment (waited for)."""
    current = ChainDeployment.objects.filter(chain_id=chain.chain_id).first()
    if current is not None and chain.has_code(current.registry_address):
        return DeploymentOutcome(
            current,
            "existing",
            f"ProvenanceRegistry already deployed on chain {chain.chain_id} at {current.registry_address}",
        )
    if current is not None:
        chain_reset_recover(chain=chain, reason=f"registry {current.registry_address} has no code")
    tx = _deployment_transaction(chain)
    outcome = transaction_broadcast(chain=chain, tx=tx)
    if outcome != "sent":
        tx.refresh_from_db()
        raise DeploymentFailed(f"deployment transaction {tx.tx_hash} was {outcome}: {tx.last_error}")
    timeout = timeout if timeout is not None else conf.get("CHAIN_RECEIPT_TIMEOUT_SECONDS")
    receipt = wait_for_receipt(chain.w3, tx.tx_hash, confirmations=1, timeout=timeout)
    if int(receipt["status"]) != 1:
        reason = replay_revert(chain.w3, tx.tx_hash).reason
        ChainTransaction.objects.filter(pk=tx.pk).update(state=TxState.FAILED, last_error=reason)
        raise DeploymentFailed(f"deployment {tx.tx_hash} reverted: {reason}")
    address = Web3.to_checksum_address(receipt["contractAddress"])
    deployment = _remember(chain=chain, tx=tx, address=address, block_number=int(receipt["blockNumber"]))
    if current is None:
        return DeploymentOutcome(
            deployment, "deployed", f"Deployed ProvenanceRegistry on chain {chain.chain_id} at {address}"
        )
    return DeploymentOutcome(
        deployment,
        "redeployed",
        f"The remembered registry {current.registry_address} has no code on chain {chain.chain_id} (the chain "
        f"was reset): deployed again at {address}; its records will be anchored again",
    )


def _deployment_transaction(chain: Chain) -> ChainTransaction:
    """The in-flight deployment if there is one (a crash after signing), else a newly signed one."""
    in_flight = _in_flight_deployment(chain)
    if in_flight is not None:
        return in_flight
    request = ProvenanceRegistry.deployment_request(writers=[chain.sender])
    gas = estimate_gas(chain.w3, request=request, sender=chain.sender)
    fees = suggest_fees(chain.w3)
    allocator = DatabaseNonceAllocator(chain_id=chain.chain_id, chain_floor={chain.sender: chain.nonce()})
    with transaction.atomic():
        allocator.lock(chain.sender)
        in_flight = _in_flight_deployment(chain)  # another process may have signed one meanwhile
        if in_flight is not None:
            return in_flight
        signed = sign_tx(
            request=request,
            account=chain.signer,
            nonce=allocator.allocate(chain.sender),
            fees=fees,
            chain_id=chain.chain_id,
            gas=gas,
        )
        tx = ChainTransaction(chain_id=chain.chain_id, kind=TxKind.DEPLOY, payload={"writers": [chain.sender]})
        store_signed(tx=tx, signed=signed)
    return tx


def _in_flight_deployment(chain: Chain) -> ChainTransaction | None:
    return (
        ChainTransaction.objects.filter(chain_id=chain.chain_id, kind=TxKind.DEPLOY, state__in=IN_FLIGHT_TX_STATES)
        .order_by("-id")
        .first()
    )


def _remember(*, chain: Chain, tx: ChainTransaction, address: str, block_number: int) -> ChainDeployment:
    with transaction.atomic():
        ChainTransaction.objects.filter(pk=tx.pk).update(
            state=TxState.MINED, block_number=block_number, contract_address=address, updated_at=timezone.now()
        )
        deployment = lock_deployment(chain_id=chain.chain_id)
        if deployment is None:
            deployment = ChainDeployment(chain_id=chain.chain_id)
        else:  # the same address is possible: same deployer, nonce restarted on a reset chain
            deployment.previous_addresses = [*deployment.previous_addresses, deployment.registry_address]
            deployment.redeployments += 1
        deployment.registry_address, deployment.deployer = address, chain.sender
        deployment.transaction, deployment.block_number = tx, block_number
        deployment.save()
    return deployment
