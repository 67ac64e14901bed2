"""Nothing is lost and nothing is doubled when the node or the worker dies: stored raw bytes are re-broadcast,
a chain reset is re-anchored, a stuck transaction is re-priced, a wrong chain is refused."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tasks_db.models import DBTaskResult
from eth_account import Account

from core.models import DomainEvent
from provenance.chain.registry import ProvenanceRegistry
from provenance.chain.signer import ANVIL_DEV_PRIVATE_KEY
from provenance.chain.transactions import TxRequest, execute
from provenance.connection import chain_connect
from provenance.models import (
    AnchorBatch,
    AnchorState,
    ChainDeployment,
    ChainTransaction,
    ProvenanceRecord,
    RecordState,
    TxState,
)
from provenance.proofs.encoding import from_hex0x
from provenance.services import deployment_ensure
from provenance.services import outbox as outbox_module
from tests.provenance.helpers import rpc

pytestmark = [pytest.mark.chain, pytest.mark.django_db]


def anchors_on_chain(root: str) -> int:
    chain = chain_connect()
    registry = ProvenanceRegistry(chain.w3, ChainDeployment.objects.get().registry_address)
    return len(registry.find_events("BatchAnchored", root=from_hex0x(root)))


def assert_each_record_confirmed_once(count: int) -> None:
    assert ProvenanceRecord.objects.count() == count
    assert set(ProvenanceRecord.objects.values_list("state", flat=True)) == {RecordState.CONFIRMED}
    for kind in ("provenance.anchored", "provenance.confirmed"):
        per_record = [e.payload["record_id"] for e in DomainEvent.objects.filter(type=kind)]
        assert sorted(per_record) == sorted(str(r.public_id) for r in ProvenanceRecord.objects.all())


def deploy_and_persist(node) -> None:
    """Deploy the registry, then restart the node cleanly so its state file holds the registry."""
    deployment_ensure(chain=chain_connect())
    node.stop()
    node.start()


def test_node_killed_while_a_batch_is_sent_then_restarted_with_its_state_confirms_each_record_once(
    own_anvil, register_image, run_chain, anvil_mine, monkeypatch
):
    deploy_and_persist(own_anvil)
    for seed in range(3):
        register_image(seed)
    real_broadcast = outbox_module.broadcast

    def node_dies_during_broadcast(w3, raw):
        own_anvil.kill()  # SIGKILL: no state dump
        return real_broadcast(w3, raw)

    monkeypatch.setattr(outbox_module, "broadcast", node_dies_during_broadcast)
    run_chain("batch")
    tx = ChainTransaction.objects.get(kind="anchor_batch")
    assert tx.state == TxState.SIGNED and tx.raw and tx.tx_hash  # stored before the broadcast that failed
    assert (
        DBTaskResult.objects.get(task_path="provenance.tasks.provenance_send").return_value["status"]
        == "chain unavailable"
    )

    monkeypatch.setattr(outbox_module, "broadcast", real_broadcast)
    own_anvil.start()  # with the state it dumped last (the registry, not the transaction)
    run_chain("send")
    anvil_mine(2)
    run_chain("confirm", "reconcile", "send", "confirm")
    tx.refresh_from_db()
    assert tx.state == TxState.CONFIRMED and ChainTransaction.objects.filter(kind="anchor_batch").count() == 1
    assert anchors_on_chain(AnchorBatch.objects.get().root) == 1
    assert_each_record_confirmed_once(3)


def test_node_restarted_from_a_state_without_the_mined_anchor_gets_the_same_bytes_again(
    own_anvil, register_image, run_chain, anvil_mine, settings
):
    settings.PROVENANCE_REBROADCAST_GRACE_SECONDS = 0
    deploy_and_persist(own_anvil)
    for seed in range(3):
        register_image(seed)
    run_chain("batch", "confirm")  # sent and mined: records anchored
    assert set(ProvenanceRecord.objects.values_list("state", flat=True)) == {RecordState.ANCHORED}
    tx = ChainTransaction.objects.get(kind="anchor_batch")
    own_anvil.kill()  # the node forgets the block holding the anchor
    own_anvil.start()
    assert rpc(own_anvil.rpc_url, "eth_getTransactionByHash", [tx.tx_hash]) is None

    run_chain("confirm")  # the confirmer waits: the node does not know the transaction
    run_chain("reconcile")  # its nonce is still free: the very same raw bytes go again
    anvil_mine(2)
    run_chain("confirm")
    tx.refresh_from_db()
    assert tx.state == TxState.CONFIRMED and len(tx.hashes) == 1
    assert anchors_on_chain(AnchorBatch.objects.get().root) == 1
    assert_each_record_confirmed_once(3)


def test_worker_dying_between_signing_and_broadcasting_loses_nothing(
    chain_settings, register_image, run_chain, anvil_mine, monkeypatch
):
    for seed in range(2):
        register_image(seed)
    deployment_ensure(chain=chain_connect())

    def worker_killed(w3, raw):
        raise KeyboardInterrupt  # what a SIGINT'd worker raises mid-task

    monkeypatch.setattr(outbox_module, "broadcast", worker_killed)
    with pytest.raises(KeyboardInterrupt):
        from provenance.services import batches_build, transactions_send

        batches_build()
        transactions_send(chain=chain_connect())
    monkeypatch.undo()
    assert ChainTransaction.objects.get(kind="anchor_batch").state == TxState.SIGNED
    run_chain("send")
    anvil_mine(2)
    run_chain("confirm")
    assert_each_record_confirmed_once(2)


def test_chain_restarted_without_state_is_reconciled_by_anchoring_again_on_a_new_registry(
    own_anvil, register_image, run_chain, anvil_mine, api
):
    for seed in range(4):
        register_image(seed)
    run_chain("batch")
    anvil_mine(2)
    run_chain("confirm")
    assert set(ProvenanceRecord.objects.values_list("state", flat=True)) == {RecordState.CONFIRMED}
    old_registry = ChainDeployment.objects.get().registry_address

    own_anvil.kill()
    own_anvil.state_path.unlink(missing_ok=True)
    own_anvil.start()  # a fresh chain: no registry, no transactions, nonces from 0

    run_chain("reconcile")
    deployment = ChainDeployment.objects.get()
    assert deployment.redeployments == 1 and deployment.previous_addresses == [old_registry]
    assert ChainTransaction.objects.filter(kind="anchor_batch", state=TxState.LOST).count() == 1
    assert set(ProvenanceRecord.objects.values_list("state", flat=True)) == {RecordState.BATCHED}

    run_chain("send")
    anvil_mine(2)
    run_chain("confirm")
    batch = AnchorBatch.objects.get()
    assert batch.state == AnchorState.CONFIRMED and batch.registry_address == deployment.registry_address
    assert set(ProvenanceRecord.objects.values_list("state", flat=True)) == {RecordState.CONFIRMED}
    assert anchors_on_chain(batch.root) == 1
    record = ProvenanceRecord.objects.first()
    check = api.get(f"/api/v1/verify/{record.content_sha256}").json()["match"]["chain_check"]
    assert check["status"] == "verified"


def test_a_nonce_taken_by_another_transaction_requeues_the_work(
    chain_settings, register_image, run_chain, anvil_mine, monkeypatch
):
    register_image(1)
    deployment_ensure(chain=chain_connect())
    monkeypatch.setattr(outbox_module, "broadcast", lambda w3, raw: (_ for _ in ()).throw(OSError("down")))
    run_chain("batch")
    signed = ChainTransaction.objects.get(kind="anchor_batch", state=TxState.SIGNED)
    monkeypatch.undo()
    # someone else spends that nonce with the same key
    chain = chain_connect()
    execute(
        chain.w3,
        request=TxRequest(to=chain.sender, data=b"", gas=21_000),
        account=Account.from_key(ANVIL_DEV_PRIVATE_KEY),
    )
    assert chain.nonce(block="latest") > signed.nonce

    run_chain("send")
    signed.refresh_from_db()
    assert signed.state == TxState.LOST and signed.replaced_by is not None
    anvil_mine(2)
    run_chain("confirm")
    assert signed.replaced_by.__class__.objects.get(pk=signed.replaced_by_id).state == TxState.CONFIRMED
    assert_each_record_confirmed_once(1)


def test_stuck_transaction_is_replaced_with_both_fees_bumped(chain_settings, register_image, run_chain, anvil_mine):
    deployment_ensure(chain=chain_connect())
    rpc(chain_settings.CHAIN_RPC_URL, "evm_setAutomine", [False])
    try:
        register_image(1)
        run_chain("batch")
        tx = ChainTransaction.objects.get(kind="anchor_batch")
        assert tx.state == TxState.SENT
        old_fee, old_tip, old_hash = tx.max_fee_per_gas, tx.max_priority_fee_per_gas, tx.tx_hash
        chain_settings.PROVENANCE_REPLACE_AFTER_SECONDS = 0
        run_chain("send")
        tx.refresh_from_db()
        assert tx.replacements == 1 and tx.hashes == [old_hash, tx.tx_hash] and tx.tx_hash != old_hash
        assert tx.max_fee_per_gas * 8 >= old_fee * 9 and tx.max_priority_fee_per_gas * 8 >= old_tip * 9
        assert tx.nonce == ChainTransaction.objects.get(pk=tx.pk).nonce
    finally:
        rpc(chain_settings.CHAIN_RPC_URL, "evm_setAutomine", [True])
    anvil_mine(3)
    run_chain("confirm")
    tx.refresh_from_db()
    assert tx.state == TxState.CONFIRMED
    assert rpc(chain_settings.CHAIN_RPC_URL, "eth_getTransactionReceipt", [tx.tx_hash])["status"] == "0x1"
    assert rpc(chain_settings.CHAIN_RPC_URL, "eth_getTransactionReceipt", [old_hash]) is None


def test_replacement_refuses_to_exceed_the_fee_ceiling(chain_settings, register_image, run_chain):
    deployment_ensure(chain=chain_connect())
    rpc(chain_settings.CHAIN_RPC_URL, "evm_setAutomine", [False])
    try:
        register_image(1)
        run_chain("batch")
        tx = ChainTransaction.objects.get(kind="anchor_batch")
        chain_settings.PROVENANCE_REPLACE_AFTER_SECONDS = 0
        chain_settings.CHAIN_MAX_FEE_PER_GAS_WEI = tx.max_fee_per_gas
        run_chain("send")
        tx.refresh_from_db()
        assert tx.replacements == 0 and "ceiling" in tx.last_error
    finally:
        rpc(chain_settings.CHAIN_RPC_URL, "evm_setAutomine", [True])
        rpc(chain_settings.CHAIN_RPC_URL, "anvil_mine", ["0x1"])


def test_node_down_ends_the_pass_and_changes_nothing(settings, register_image, run_chain):
    from provenance.chain.anvil import free_port

    settings.CHAIN_RPC_URL = f"http://127.0.0.1:{free_port()}"
    register_image(1)
    run_chain("batch", "confirm", "reconcile")
    results = DBTaskResult.objects.exclude(task_path="provenance.tasks.provenance_batch")
    assert {r.status for r in results} == {"SUCCESSFUL"}
    assert {r.return_value["status"] for r in results} == {"chain unavailable"}
    assert ChainTransaction.objects.get().state == TxState.PENDING
    assert ProvenanceRecord.objects.get().state == RecordState.BATCHED


def test_wrong_chain_id_is_refused_by_the_tasks_and_chain_deploy(chain_settings, register_image, run_chain):
    chain_settings.CHAIN_ID = 1
    chain_settings.CHAIN_PRIVATE_KEY = Account.create().key.hex()
    register_image(1)
    run_chain("batch")
    sender = DBTaskResult.objects.get(task_path="provenance.tasks.provenance_send")
    expected = f"connected to chain 31337 at {chain_settings.CHAIN_RPC_URL}, expected 1"
    assert sender.status == "FAILED" and expected in sender.traceback
    assert ChainTransaction.objects.get().state == TxState.PENDING and not ChainDeployment.objects.exists()
    with pytest.raises(CommandError, match=expected.replace(".", r"\.")):
        call_command("chain_deploy")


def test_re_anchoring_a_root_that_is_already_on_chain_adopts_the_original_transaction(
    chain_settings, register_image, run_chain, anvil_mine
):
    from provenance.services import batch_reanchor

    register_image(1)
    run_chain("batch")
    batch = AnchorBatch.objects.get()
    original = batch.transaction
    # an operator believed the anchor lost (it was mined) and re-anchors the batch
    ChainTransaction.objects.filter(pk=original.pk).update(state=TxState.LOST)
    batch_reanchor(batch=batch)
    run_chain("send", "confirm")
    retry = ChainTransaction.objects.get(kind="anchor_batch", replaced_by__isnull=True, pk__gt=original.pk)
    assert retry.state == TxState.FAILED and "batch root already anchored" in retry.last_error
    anvil_mine(2)
    run_chain("confirm")
    batch.refresh_from_db()
    assert batch.transaction_id == original.pk and batch.state == AnchorState.CONFIRMED
    assert ProvenanceRecord.objects.get().state == RecordState.CONFIRMED
    assert anchors_on_chain(batch.root) == 1
