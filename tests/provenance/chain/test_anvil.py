import os
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from provenance.chain.anvil import DEFAULT_ANVIL_BINARY, AnvilError, AnvilProcess, resolve_anvil_binary
from provenance.chain.connection import connect
from provenance.chain.registry import ProvenanceRegistry
from provenance.chain.transactions import execute, tx_status

pytestmark = pytest.mark.chain


def test_state_file_keeps_the_chain_across_stop_and_start(tmp_path: Path, deployer: LocalAccount):
    state = tmp_path / "chain" / "state.json"
    node = AnvilProcess(state_path=state, log_path=tmp_path / "anvil.log")
    content, pdq, creator = os.urandom(32), os.urandom(32), os.urandom(32)
    with node:
        w3 = connect(rpc_url=node.rpc_url, expected_chain_id=node.chain_id)
        registry = ProvenanceRegistry.deploy(w3, account=deployer)
        receipt = execute(
            w3,
            request=registry.register(content_hash=content, perceptual_hash=pdq, creator=creator),
            account=deployer,
        )
        head = w3.eth.block_number
    assert state.exists()

    with node:
        w3 = connect(rpc_url=node.rpc_url, expected_chain_id=node.chain_id)
        assert w3.eth.block_number == head
        assert ProvenanceRegistry(w3, registry.address).registration(content).creator == creator
        assert tx_status(w3, receipt["transactionHash"]).state == "confirmed"


def test_stop_terminates_the_process(tmp_path: Path):
    node = AnvilProcess(log_path=tmp_path / "anvil.log").start()
    assert node.is_running()
    node.stop()
    assert not node.is_running()
    node.stop()  # stopping twice is harmless


def test_missing_binary_is_reported(tmp_path: Path):
    with pytest.raises(AnvilError, match="not found"):
        AnvilProcess(binary=tmp_path / "no-anvil").start()


def test_custom_chain_id_is_served(tmp_path: Path):
    with AnvilProcess(chain_id=424242, log_path=tmp_path / "anvil.log") as node:
        assert connect(rpc_url=node.rpc_url, expected_chain_id=424242).eth.chain_id == 424242


def test_kill_ends_the_node_at_once_and_frees_its_port(tmp_path: Path, deployer: LocalAccount):
    node = AnvilProcess(log_path=tmp_path / "anvil.log").start()
    w3 = connect(rpc_url=node.rpc_url, expected_chain_id=node.chain_id)
    ProvenanceRegistry.deploy(w3, account=deployer)
    pid = node.pid
    node.kill()
    assert not node.is_running()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    # a fresh node on the same port answers with a fresh chain: nothing of the old one is left listening
    with AnvilProcess(port=node.port, log_path=tmp_path / "anvil2.log"):
        assert w3.eth.block_number == 0


def test_the_native_binary_runs_rather_than_the_npm_node_shim():
    assert DEFAULT_ANVIL_BINARY.resolve().suffix == ".mjs"
    native = resolve_anvil_binary(DEFAULT_ANVIL_BINARY)
    assert native.name == "anvil" and native.suffix == ""
    assert AnvilProcess().command()[0] == str(native)
