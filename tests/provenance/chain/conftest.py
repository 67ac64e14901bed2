"""Chain fixtures: a throwaway anvil on a free port for the session and a freshly deployed registry per
test. The anvil fixture is a thin wrapper over AnvilProcess so it can move to the root conftest."""

from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from provenance.chain.anvil import ANVIL_CHAIN_ID, AnvilProcess
from provenance.chain.connection import connect
from provenance.chain.registry import ProvenanceRegistry
from provenance.chain.signer import ANVIL_DEV_PRIVATE_KEY


@pytest.fixture(scope="session")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilProcess]:
    log_path = tmp_path_factory.mktemp("anvil") / "anvil.log"
    with AnvilProcess(log_path=log_path) as node:
        yield node


@pytest.fixture(scope="session")
def w3(anvil: AnvilProcess) -> Web3:
    return connect(rpc_url=anvil.rpc_url, expected_chain_id=ANVIL_CHAIN_ID)


@pytest.fixture
def deployer() -> LocalAccount:
    return Account.from_key(ANVIL_DEV_PRIVATE_KEY)


@pytest.fixture
def registry(w3: Web3, deployer: LocalAccount) -> ProvenanceRegistry:
    return ProvenanceRegistry.deploy(w3, account=deployer)


@pytest.fixture
def funded(w3: Web3) -> LocalAccount:
    """A fresh account with ether and no role in any registry."""
    account = Account.create()
    w3.provider.make_request("anvil_setBalance", [account.address, hex(10**20)])
    return account
