import pytest

from provenance.chain.anvil import AnvilProcess, free_port
from provenance.chain.connection import connect
from provenance.chain.errors import ChainIdMismatch, ChainUnavailable

pytestmark = pytest.mark.chain


def test_connecting_to_the_expected_chain_succeeds(anvil: AnvilProcess):
    assert connect(rpc_url=anvil.rpc_url, expected_chain_id=31337).eth.chain_id == 31337


def test_chain_id_mismatch_is_refused_with_both_ids(anvil: AnvilProcess):
    with pytest.raises(ChainIdMismatch) as caught:
        connect(rpc_url=anvil.rpc_url, expected_chain_id=11155111)
    assert str(caught.value) == f"connected to chain 31337 at {anvil.rpc_url}, expected 11155111"


def test_unreachable_node_is_reported_as_unavailable():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ChainUnavailable, match="unavailable"):
        connect(rpc_url=url, expected_chain_id=31337, timeout=1, retries=1)
