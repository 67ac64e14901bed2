import pytest
from eth_account import Account

from provenance.chain.errors import SignerNotConfigured
from provenance.chain.signer import ANVIL_DEV_ADDRESS, ANVIL_DEV_PRIVATE_KEY, resolve_private_key


def test_configured_key_is_used_on_any_chain():
    key = Account.create().key.to_0x_hex()
    assert resolve_private_key(chain_id=1, configured_key=key) == key
    assert resolve_private_key(chain_id=31337, configured_key=key[2:]) == key


def test_anvil_dev_key_is_the_fallback_on_the_local_chain_only():
    assert resolve_private_key(chain_id=31337, configured_key=None) == ANVIL_DEV_PRIVATE_KEY
    assert Account.from_key(ANVIL_DEV_PRIVATE_KEY).address == ANVIL_DEV_ADDRESS


@pytest.mark.parametrize("chain_id", [1, 11155111, 31338])
def test_other_chains_without_a_key_are_refused(chain_id: int):
    with pytest.raises(SignerNotConfigured, match=f"chain {chain_id}"):
        resolve_private_key(chain_id=chain_id, configured_key="")
