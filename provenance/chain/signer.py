"""Local-key signing only: the node never holds our accounts."""

from provenance.chain.anvil import ANVIL_CHAIN_ID
from provenance.chain.errors import SignerNotConfigured

# anvil's first well-known development account (mnemonic "test test ... junk"); public knowledge,
# so it is only ever used on the local development chain id.
ANVIL_DEV_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL_DEV_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def resolve_private_key(*, chain_id: int, configured_key: str | None) -> str:
    if configured_key:
        return configured_key if configured_key.startswith("0x") else f"0x{configured_key}"
    if chain_id == ANVIL_CHAIN_ID:
        return ANVIL_DEV_PRIVATE_KEY
    raise SignerNotConfigured(
        f"no signing key configured for chain {chain_id}; the anvil development key is only used on "
        f"chain {ANVIL_CHAIN_ID}"
    )
