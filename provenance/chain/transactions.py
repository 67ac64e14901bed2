"""Build -> sign locally -> (caller stores raw bytes and hash) -> broadcast -> wait / inspect.

Nothing here sends a transaction as a side effect of signing it, so a crash between signing and
broadcasting leaves a stored raw transaction that can simply be broadcast again (idempotently).
"""

import time
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from typing import Literal

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import Nonce, TxParams, TxReceipt, Wei

from provenance.chain.errors import ReceiptTimeout, RevertError, TransactionRejected, decode_revert
from provenance.chain.fees import Fees, bump_fees, suggest_fees
from provenance.chain.nonces import InMemoryNonceAllocator, NonceAllocator

DEFAULT_GAS_MARGIN = 1.2

# What nodes say when they already hold exactly this transaction (geth, anvil/reth, nethermind, besu).
_ALREADY_KNOWN = ("already known", "already imported", "known transaction", "alreadyknown", "already exists")
_NONCE_USED = ("nonce too low", "nonce has already been used", "oldnonce", "nonce is too low")


@dataclass(frozen=True, slots=True)
class TxRequest:
    """What to send, before a nonce, fees and a signature are attached. `to=None` deploys `data`."""

    to: str | None
    data: bytes
    value: int = 0
    gas: int | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class SignedTx:
    raw: bytes
    tx_hash: bytes
    sender: str
    nonce: int
    chain_id: int
    fees: Fees
    gas: int
    request: TxRequest

    @property
    def hash_hex(self) -> str:
        return "0x" + self.tx_hash.hex()


TxState = Literal["unknown", "pending", "mined", "confirmed"]


@dataclass(frozen=True, slots=True)
class TxStatus:
    """unknown: the node has never heard of it (e.g. a dev chain restarted without state) -> re-broadcast;
    pending: in the pool; mined: in a block, fewer than `confirmations` deep; confirmed: deep enough."""

    state: TxState
    block_number: int | None = None
    success: bool | None = None
    depth: int = 0


def estimate_gas(
    w3: Web3, *, request: TxRequest, sender: ChecksumAddress | str, margin: float = DEFAULT_GAS_MARGIN
) -> int:
    params: TxParams = {"from": sender, "data": request.data, "value": Wei(request.value)}
    if request.to is not None:
        params["to"] = request.to
    try:
        estimate = w3.eth.estimate_gas(params)
    except ContractLogicError as exc:  # web3 raises it (or a subclass) for every revert answer
        raise decode_revert(exc) from exc
    return int(estimate * margin)


def build_signed_tx(
    w3: Web3,
    *,
    request: TxRequest,
    account: LocalAccount,
    nonce: int,
    fees: Fees,
    chain_id: int | None = None,
    gas: int | None = None,
) -> SignedTx:
    """Sign without sending. Gas is the request's, else `gas`, else an estimate (which surfaces a revert
    reason as RevertError before anything is signed)."""
    chain_id = chain_id if chain_id is not None else w3.eth.chain_id
    gas_limit = request.gas or gas or estimate_gas(w3, request=request, sender=account.address)
    return sign_tx(request=request, account=account, nonce=nonce, fees=fees, chain_id=chain_id, gas=gas_limit)


def sign_tx(*, request: TxRequest, account: LocalAccount, nonce: int, fees: Fees, chain_id: int, gas: int) -> SignedTx:
    tx: TxParams = {
        "type": 2,
        "chainId": chain_id,
        "nonce": Nonce(nonce),
        "gas": gas,
        "value": Wei(request.value),
        "data": request.data,
        **fees.as_tx_fields(),
    }
    if request.to is not None:
        tx["to"] = Web3.to_checksum_address(request.to)
    signed = account.sign_transaction(tx)
    return SignedTx(
        raw=bytes(signed.raw_transaction),
        tx_hash=bytes(signed.hash),
        sender=account.address,
        nonce=nonce,
        chain_id=chain_id,
        fees=fees,
        gas=gas,
        request=request,
    )


def broadcast(w3: Web3, raw: bytes) -> bytes:
    """Send a signed raw transaction; returns its hash. Idempotent: a node that already holds or has
    already mined this very transaction counts as success."""
    tx_hash = keccak(raw)
    try:
        sent = w3.eth.send_raw_transaction(raw)
    except Web3RPCError as exc:
        message = (exc.message or str(exc)).lower()
        if any(phrase in message for phrase in _ALREADY_KNOWN):
            return tx_hash
        if any(phrase in message for phrase in _NONCE_USED) and _node_has_transaction(w3, tx_hash):
            return tx_hash
        raise TransactionRejected(f"node rejected transaction 0x{tx_hash.hex()}: {exc.message or exc}") from exc
    return bytes(sent)


def replace(
    w3: Web3,
    *,
    original: SignedTx,
    account: LocalAccount,
    ceiling: int,
    current_fees: Fees | None = None,
) -> SignedTx:
    """Re-sign a stuck transaction (the account's own) with the same nonce and payload and fees bumped by
    >= 12.5% (and at least the network's current suggestion). Does not broadcast."""
    network_fees = current_fees if current_fees is not None else suggest_fees(w3)
    fees = bump_fees(original.fees, ceiling=ceiling, at_least=network_fees)
    return sign_tx(
        request=original.request,
        account=account,
        nonce=original.nonce,
        fees=fees,
        chain_id=original.chain_id,
        gas=original.gas,
    )


def tx_status(w3: Web3, tx_hash: bytes | str, *, confirmations: int = 1) -> TxStatus:
    tx_hash = HexBytes(tx_hash)
    receipt = _receipt_or_none(w3, tx_hash)
    if receipt is not None:
        block_number = int(receipt["blockNumber"])
        depth = int(w3.eth.block_number) - block_number + 1
        success = int(receipt["status"]) == 1
        state: TxState = "confirmed" if depth >= confirmations else "mined"
        return TxStatus(state=state, block_number=block_number, success=success, depth=depth)
    if _node_has_transaction(w3, tx_hash):
        return TxStatus(state="pending")
    return TxStatus(state="unknown")


def wait_for_receipt(
    w3: Web3,
    tx_hash: bytes | str,
    *,
    confirmations: int = 1,
    timeout: float = 120.0,
    poll_interval: float = 0.1,
) -> TxReceipt:
    """Wait until the transaction is mined `confirmations` blocks deep (1 = in the latest block)."""
    tx_hash = HexBytes(tx_hash)
    deadline = time.monotonic() + timeout
    while True:
        receipt = _receipt_or_none(w3, tx_hash)
        if receipt is not None and int(w3.eth.block_number) - int(receipt["blockNumber"]) + 1 >= confirmations:
            return receipt
        if time.monotonic() >= deadline:
            seen = "mined but not deep enough" if receipt is not None else "not mined"
            raise ReceiptTimeout(f"transaction {tx_hash.to_0x_hex()} {seen} after {timeout:.1f}s")
        time.sleep(poll_interval)


def replay_revert(w3: Web3, tx_hash: bytes | str) -> RevertError:
    """Why did a mined transaction fail? Re-run it as a call on the state before its block."""
    tx = w3.eth.get_transaction(HexBytes(tx_hash))
    call: TxParams = {"from": tx["from"], "data": tx["input"], "value": tx["value"], "gas": tx["gas"]}
    if tx.get("to"):
        call["to"] = tx["to"]
    try:
        w3.eth.call(call, block_identifier=int(tx["blockNumber"]) - 1)
    except (ContractLogicError, Web3RPCError) as exc:  # a revert, or a failure such as running out of gas
        return decode_revert(exc)
    return RevertError("transaction failed but its replay succeeded (state changed within the block)")


def execute(
    w3: Web3,
    *,
    request: TxRequest,
    account: LocalAccount,
    nonces: NonceAllocator | None = None,
    fees: Fees | None = None,
    confirmations: int = 1,
    timeout: float = 60.0,
) -> TxReceipt:
    """Sign, broadcast and wait in one call (scripts, tests, benchmarks; services store the SignedTx
    between the steps instead). Raises RevertError when the transaction reverts."""
    allocator = nonces if nonces is not None else InMemoryNonceAllocator.for_web3(w3)
    nonce = allocator.allocate(account.address)
    try:
        signed = build_signed_tx(w3, request=request, account=account, nonce=nonce, fees=fees or suggest_fees(w3))
        broadcast(w3, signed.raw)
    except BaseException:
        allocator.release(account.address, nonce)
        raise
    allocator.confirm(account.address, nonce)
    receipt = wait_for_receipt(w3, signed.tx_hash, confirmations=confirmations, timeout=timeout)
    if int(receipt["status"]) != 1:
        raise replay_revert(w3, signed.tx_hash)
    return receipt


def with_gas(request: TxRequest, gas: int) -> TxRequest:
    return dataclass_replace(request, gas=gas)


def _receipt_or_none(w3: Web3, tx_hash: HexBytes) -> TxReceipt | None:
    try:
        return w3.eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        return None


def _node_has_transaction(w3: Web3, tx_hash: bytes) -> bool:
    try:
        w3.eth.get_transaction(HexBytes(tx_hash))
    except TransactionNotFound:
        return False
    return True
