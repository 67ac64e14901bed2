"""The one way the Django side reaches the chain: the configured node, checked for its chain id, and the
signing account, made once from CHAIN_PRIVATE_KEY."""

from dataclasses import dataclass, field

import requests
from django.conf import settings
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import Web3Exception

from provenance.chain.anvil import ANVIL_CHAIN_ID
from provenance.chain.connection import connect
from provenance.chain.errors import ChainUnavailable, SignerNotConfigured
from provenance.chain.registry import ProvenanceRegistry
from provenance.chain.signer import ANVIL_DEV_PRIVATE_KEY, resolve_private_key

# What a node that is down, restarting or unreachable raises somewhere along a call.
CHAIN_DOWN_ERRORS = (ChainUnavailable, requests.RequestException, OSError)


def signing_account() -> LocalAccount:
    """CHAIN_PRIVATE_KEY's account; the anvil development account only on anvil's chain id (its key is public
    knowledge)."""
    chain_id = settings.CHAIN_ID
    key = resolve_private_key(chain_id=chain_id, configured_key=settings.CHAIN_PRIVATE_KEY or None)
    if chain_id != ANVIL_CHAIN_ID and key.lower() == ANVIL_DEV_PRIVATE_KEY:
        raise SignerNotConfigured(
            f"CHAIN_PRIVATE_KEY is anvil's public development key, which is only allowed on chain "
            f"{ANVIL_CHAIN_ID}; CHAIN_ID is {chain_id}"
        )
    try:
        return Account.from_key(key)
    except (ValueError, TypeError) as exc:
        raise SignerNotConfigured(f"CHAIN_PRIVATE_KEY is not a valid private key ({type(exc).__name__})") from None


@dataclass
class Chain:
    w3: Web3
    chain_id: int
    rpc_url: str
    account: LocalAccount | None = field(repr=False)  # None: connected to read only

    @property
    def sender(self) -> str:
        return self.account.address if self.account is not None else ""

    @property
    def signer(self) -> LocalAccount:
        if self.account is None:
            raise SignerNotConfigured("this connection was made without the signing account (signer=False)")
        return self.account

    def registry(self, address: str) -> ProvenanceRegistry:
        return ProvenanceRegistry(self.w3, address)

    def has_code(self, address: str) -> bool:
        return bool(address) and len(self.w3.eth.get_code(Web3.to_checksum_address(address))) > 0

    def nonce(self, *, block: str = "pending") -> int:
        return int(self.w3.eth.get_transaction_count(self.sender, block))


def chain_connect(*, timeout: float = 10.0, retries: int = 2, signer: bool = True) -> Chain:
    """Raises ChainIdMismatch ("connected to chain X at URL, expected Y"), ChainUnavailable, or
    SignerNotConfigured; nothing may be signed for a chain that is not the configured one."""
    rpc_url, chain_id = settings.CHAIN_RPC_URL, settings.CHAIN_ID
    account = signing_account() if signer else None
    w3 = connect(rpc_url=rpc_url, expected_chain_id=chain_id, timeout=timeout, retries=retries)
    return Chain(w3=w3, chain_id=chain_id, rpc_url=rpc_url, account=account)


def is_chain_down(exc: BaseException) -> bool:
    if isinstance(exc, CHAIN_DOWN_ERRORS):
        return True
    # web3 wraps some transport failures; a JSON-RPC error answer is not "down"
    return isinstance(exc, Web3Exception) and isinstance(exc.__cause__, CHAIN_DOWN_ERRORS)
