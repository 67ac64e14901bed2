from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from provenance.chain.anvil import AnvilProcess
from provenance.chain.connection import connect
from provenance.chain.errors import ReceiptTimeout, TransactionRejected
from provenance.chain.fees import Fees, suggest_fees
from provenance.chain.registry import ProvenanceRegistry
from provenance.chain.transactions import (
    SignedTx,
    TxRequest,
    broadcast,
    build_signed_tx,
    replace,
    sign_tx,
    tx_status,
    wait_for_receipt,
)

pytestmark = pytest.mark.chain

GWEI = 10**9


@pytest.fixture
def manual_node(tmp_path: Path) -> Iterator[tuple[AnvilProcess, Web3]]:
    """Its own anvil with mining off, so transactions stay pending until the test mines."""
    with AnvilProcess(automine=False, log_path=tmp_path / "anvil.log") as node:
        yield node, connect(rpc_url=node.rpc_url, expected_chain_id=node.chain_id)


def mine(w3: Web3, blocks: int = 1) -> None:
    w3.provider.make_request("anvil_mine", [blocks])


def self_transfer(w3: Web3, account: LocalAccount, *, nonce: int | None = None, fees: Fees | None = None) -> SignedTx:
    me = account.address
    return build_signed_tx(
        w3,
        request=TxRequest(to=me, data=b"", value=1, gas=21_000),
        account=account,
        nonce=w3.eth.get_transaction_count(me, "pending") if nonce is None else nonce,
        fees=fees or suggest_fees(w3),
    )


def test_signing_does_not_send(w3: Web3, deployer: LocalAccount):
    signed = self_transfer(w3, deployer)
    assert tx_status(w3, signed.tx_hash).state == "unknown"
    assert Web3.keccak(signed.raw) == signed.tx_hash


def test_broadcasting_the_same_raw_transaction_twice_is_idempotent(manual_node, deployer: LocalAccount):
    _, w3 = manual_node
    signed = self_transfer(w3, deployer)
    assert broadcast(w3, signed.raw) == signed.tx_hash
    assert broadcast(w3, signed.raw) == signed.tx_hash  # node: "already imported"
    assert tx_status(w3, signed.tx_hash).state == "pending"
    mine(w3)
    assert broadcast(w3, signed.raw) == signed.tx_hash  # node: "nonce too low", but it is this very tx
    assert tx_status(w3, signed.tx_hash).state == "confirmed"


def test_a_different_transaction_with_a_used_nonce_is_rejected(manual_node, deployer: LocalAccount):
    _, w3 = manual_node
    first = self_transfer(w3, deployer)
    broadcast(w3, first.raw)
    mine(w3)
    other = self_transfer(
        w3,
        deployer,
        nonce=first.nonce,
        fees=Fees(max_fee_per_gas=5 * GWEI, max_priority_fee_per_gas=2 * GWEI),
    )
    with pytest.raises(TransactionRejected, match="nonce too low"):
        broadcast(w3, other.raw)


def test_stuck_transaction_is_replaced_and_the_replacement_mined(manual_node, deployer: LocalAccount):
    _, w3 = manual_node
    registry_deploy = build_signed_tx(
        w3,
        request=ProvenanceRegistry.deployment_request(writers=[deployer.address]),
        account=deployer,
        nonce=0,
        fees=suggest_fees(w3),
    )
    broadcast(w3, registry_deploy.raw)
    assert tx_status(w3, registry_deploy.tx_hash).state == "pending"

    replacement = replace(w3, original=registry_deploy, account=deployer, ceiling=1_000 * GWEI)
    assert replacement.nonce == registry_deploy.nonce
    assert replacement.request == registry_deploy.request
    assert replacement.tx_hash != registry_deploy.tx_hash
    assert replacement.fees.max_fee_per_gas * 8 >= registry_deploy.fees.max_fee_per_gas * 9
    broadcast(w3, replacement.raw)
    mine(w3)

    receipt = wait_for_receipt(w3, replacement.tx_hash, timeout=10)
    assert receipt["status"] == 1
    assert ProvenanceRegistry(w3, receipt["contractAddress"]).is_writer(replacement.sender)
    assert tx_status(w3, registry_deploy.tx_hash).state == "unknown"


def test_status_follows_a_transaction_from_pending_to_confirmed(manual_node, deployer: LocalAccount):
    _, w3 = manual_node
    signed = self_transfer(w3, deployer)
    assert tx_status(w3, signed.tx_hash).state == "unknown"
    broadcast(w3, signed.raw)
    assert tx_status(w3, signed.tx_hash, confirmations=3).state == "pending"
    mine(w3)
    mined = tx_status(w3, signed.tx_hash, confirmations=3)
    assert (mined.state, mined.depth, mined.success) == ("mined", 1, True)
    mine(w3, 2)
    confirmed = tx_status(w3, signed.tx_hash, confirmations=3)
    assert (confirmed.state, confirmed.depth, confirmed.block_number) == ("confirmed", 3, mined.block_number)


def test_wait_for_receipt_waits_for_confirmations(manual_node, deployer: LocalAccount):
    _, w3 = manual_node
    signed = self_transfer(w3, deployer)
    broadcast(w3, signed.raw)
    with pytest.raises(ReceiptTimeout, match="not mined"):
        wait_for_receipt(w3, signed.tx_hash, timeout=0.3, poll_interval=0.05)
    mine(w3)
    with pytest.raises(ReceiptTimeout, match="not deep enough"):
        wait_for_receipt(w3, signed.tx_hash, confirmations=2, timeout=0.3, poll_interval=0.05)
    mine(w3)
    assert wait_for_receipt(w3, signed.tx_hash, confirmations=2, timeout=5)["status"] == 1


def test_status_is_unknown_after_the_dev_chain_restarts_without_state(tmp_path: Path, deployer: LocalAccount):
    with AnvilProcess(log_path=tmp_path / "anvil.log") as node:
        w3 = connect(rpc_url=node.rpc_url, expected_chain_id=node.chain_id)
        signed = self_transfer(w3, deployer)
        broadcast(w3, signed.raw)
        wait_for_receipt(w3, signed.tx_hash, timeout=30)  # automine is quick, but not synchronous under load
        assert tx_status(w3, signed.tx_hash).state == "confirmed"
        node.restart()
        assert tx_status(w3, signed.tx_hash).state == "unknown"
        # the reconciler's answer to "unknown": broadcast the stored raw transaction again
        assert broadcast(w3, signed.raw) == signed.tx_hash
        wait_for_receipt(w3, signed.tx_hash, timeout=30)
        assert tx_status(w3, signed.tx_hash).state == "confirmed"


def test_replacement_fees_respect_the_ceiling(manual_node, deployer: LocalAccount):
    from provenance.chain.errors import FeeCeilingExceeded

    _, w3 = manual_node
    signed = self_transfer(w3, deployer, fees=Fees(max_fee_per_gas=10 * GWEI, max_priority_fee_per_gas=GWEI))
    with pytest.raises(FeeCeilingExceeded):
        replace(w3, original=signed, account=deployer, ceiling=11 * GWEI)


def test_sign_tx_for_another_chain_id_is_refused_by_the_node(w3: Web3, deployer: LocalAccount):
    me = deployer.address
    foreign = sign_tx(
        request=TxRequest(to=me, data=b"", value=1),
        account=deployer,
        nonce=w3.eth.get_transaction_count(me, "pending"),
        fees=suggest_fees(w3),
        chain_id=1,
        gas=21_000,
    )
    with pytest.raises(TransactionRejected):
        broadcast(w3, foreign.raw)
