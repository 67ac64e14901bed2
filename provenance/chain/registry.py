"""Typed wrapper over the deployed ProvenanceRegistry: write methods build TxRequests for the signer path
(build -> sign -> store -> broadcast); views read the chain; events are decoded from receipts or logs."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import event_abi_to_log_topic
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import BlockIdentifier, TxReceipt

from provenance.chain.errors import ChainError
from provenance.chain.fees import Fees
from provenance.chain.nonces import NonceAllocator
from provenance.chain.transactions import TxRequest, execute
from provenance.contracts.build import load_artifact

EVENT_NAMES = (
    "ContentRegistered",
    "BatchAnchored",
    "ArtworkTransferred",
    "WriterAdded",
    "WriterRemoved",
    "OwnershipTransferred",
)


@cache
def registry_artifact() -> dict[str, Any]:
    return load_artifact()


def as_bytes32(value: bytes | str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return raw


@dataclass(frozen=True, slots=True)
class Registration:
    content_hash: bytes
    creator: bytes
    registered_at: int  # block timestamp, seconds


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    tx_hash: bytes


class ProvenanceRegistry:
    def __init__(self, w3: Web3, address: str) -> None:
        self.w3 = w3
        self.address = Web3.to_checksum_address(address)
        self.contract: Contract = w3.eth.contract(address=self.address, abi=registry_artifact()["abi"])
        self._events_by_topic = {
            event_abi_to_log_topic(item): item["name"] for item in self.contract.abi if item["type"] == "event"
        }

    # --- deployment -------------------------------------------------------------------------------

    @staticmethod
    def deployment_request(*, writers: Sequence[str]) -> TxRequest:
        bytecode = bytes.fromhex(registry_artifact()["bytecode"].removeprefix("0x"))
        checksummed = [Web3.to_checksum_address(writer) for writer in writers]
        constructor_args = abi_encode(["address[]"], [checksummed])
        return TxRequest(to=None, data=bytecode + constructor_args, description="deploy ProvenanceRegistry")

    @classmethod
    def deploy(
        cls,
        w3: Web3,
        *,
        account: LocalAccount,
        writers: Sequence[str] | None = None,
        nonces: NonceAllocator | None = None,
        fees: Fees | None = None,
        confirmations: int = 1,
    ) -> "ProvenanceRegistry":
        """Deploy and wait (scripts, tests, benchmarks). `writers` defaults to the deployer alone."""
        if writers is None:
            writers = [account.address]
        receipt = execute(
            w3,
            request=cls.deployment_request(writers=writers),
            account=account,
            nonces=nonces,
            fees=fees,
            confirmations=confirmations,
        )
        address = receipt["contractAddress"]
        if not address:
            raise ChainError(f"deployment {receipt['transactionHash'].hex()} created no contract")
        return cls(w3, address)

    # --- writes: TxRequests for the signer path -------------------------------------------------------

    def _request(self, function: str, args: list[Any], description: str) -> TxRequest:
        data = self.contract.encode_abi(function, args=args)
        return TxRequest(to=self.address, data=bytes(HexBytes(data)), description=description)

    def register(self, *, content_hash: bytes, perceptual_hash: bytes, creator: bytes) -> TxRequest:
        content_hash = as_bytes32(content_hash)
        return self._request(
            "register",
            [content_hash, as_bytes32(perceptual_hash), as_bytes32(creator)],
            f"register 0x{content_hash.hex()}",
        )

    def anchor_batch(self, *, root: bytes, leaf_count: int) -> TxRequest:
        root = as_bytes32(root)
        return self._request("anchor_batch", [root, leaf_count], f"anchor batch 0x{root.hex()} ({leaf_count})")

    def record_transfer(self, *, content_hash: bytes, previous_owner: bytes, new_owner: bytes) -> TxRequest:
        content_hash = as_bytes32(content_hash)
        return self._request(
            "record_transfer",
            [content_hash, as_bytes32(previous_owner), as_bytes32(new_owner)],
            f"transfer 0x{content_hash.hex()}",
        )

    def record_transfers(self, *, transfers: Sequence[tuple[bytes, bytes, bytes]]) -> TxRequest:
        """(content_hash, previous_owner, new_owner) triples, applied in order in one transaction."""
        items = [(as_bytes32(c), as_bytes32(p), as_bytes32(n)) for c, p, n in transfers]
        return self._request("record_transfers", [items], f"{len(items)} transfers")

    def add_writer(self, *, account: str) -> TxRequest:
        account = Web3.to_checksum_address(account)
        return self._request("add_writer", [account], f"add writer {account}")

    def remove_writer(self, *, account: str) -> TxRequest:
        account = Web3.to_checksum_address(account)
        return self._request("remove_writer", [account], f"remove writer {account}")

    def transfer_ownership(self, *, new_owner: str) -> TxRequest:
        new_owner = Web3.to_checksum_address(new_owner)
        return self._request("transfer_ownership", [new_owner], f"transfer registry ownership to {new_owner}")

    # --- views ------------------------------------------------------------------------------------------

    def owner(self, *, block: BlockIdentifier = "latest") -> str:
        return self.contract.functions.owner().call(block_identifier=block)

    def is_writer(self, account: str, *, block: BlockIdentifier = "latest") -> bool:
        return self.contract.functions.is_writer(Web3.to_checksum_address(account)).call(block_identifier=block)

    def registration(self, content_hash: bytes, *, block: BlockIdentifier = "latest") -> Registration | None:
        content_hash = as_bytes32(content_hash)
        creator, registered_at = self.contract.functions.registrations(content_hash).call(block_identifier=block)
        if registered_at == 0:
            return None
        return Registration(content_hash=content_hash, creator=bytes(creator), registered_at=int(registered_at))

    def batch_time(self, root: bytes, *, block: BlockIdentifier = "latest") -> int | None:
        anchored_at = self.contract.functions.batch_time(as_bytes32(root)).call(block_identifier=block)
        return int(anchored_at) or None

    def current_owner(self, content_hash: bytes, *, block: BlockIdentifier = "latest") -> bytes | None:
        owner = self.contract.functions.current_owner(as_bytes32(content_hash)).call(block_identifier=block)
        return bytes(owner) if any(owner) else None

    def record_leaf(self, *, content_hash: bytes, perceptual_hash: bytes, creator: bytes) -> bytes:
        leaf = self.contract.functions.record_leaf(
            as_bytes32(content_hash), as_bytes32(perceptual_hash), as_bytes32(creator)
        ).call()
        return bytes(leaf)

    def verify_proof(self, root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
        return self.contract.functions.verify_proof(
            as_bytes32(root), as_bytes32(leaf), [as_bytes32(node) for node in proof]
        ).call()

    def verify_record(
        self,
        *,
        root: bytes,
        content_hash: bytes,
        perceptual_hash: bytes,
        creator: bytes,
        proof: Sequence[bytes],
        block: BlockIdentifier = "latest",
    ) -> bool:
        """True when the record is in the tree of `root` and that root is anchored on chain."""
        return self.contract.functions.verify_record(
            as_bytes32(root),
            as_bytes32(content_hash),
            as_bytes32(perceptual_hash),
            as_bytes32(creator),
            [as_bytes32(node) for node in proof],
        ).call(block_identifier=block)

    # --- events -------------------------------------------------------------------------------------------

    def decode_events(self, receipt: TxReceipt) -> list[RegistryEvent]:
        """This registry's events in a receipt, in log order (logs of other contracts are skipped)."""
        events = []
        for log in receipt["logs"]:
            if Web3.to_checksum_address(log["address"]) != self.address or not log["topics"]:
                continue
            name = self._events_by_topic.get(bytes(log["topics"][0]))
            if name is None:
                continue
            decoded = self.contract.events[name]().process_log(log)
            events.append(_to_registry_event(decoded))
        return events

    def find_events(
        self,
        name: str,
        *,
        from_block: BlockIdentifier = 0,
        to_block: BlockIdentifier = "latest",
        **argument_filters: Any,
    ) -> list[RegistryEvent]:
        """eth_getLogs for one event, filtered on indexed arguments (e.g. content_hash=...)."""
        if name not in EVENT_NAMES:
            raise ValueError(f"unknown event {name!r}; one of {EVENT_NAMES}")
        filters = {
            key: as_bytes32(value) if isinstance(value, (bytes, bytearray)) else value
            for key, value in argument_filters.items()
        }
        logs = self.contract.events[name]().get_logs(
            argument_filters=filters or None, from_block=from_block, to_block=to_block
        )
        return [_to_registry_event(log) for log in logs]


def _to_registry_event(decoded: Any) -> RegistryEvent:
    return RegistryEvent(
        name=decoded["event"],
        args={key: bytes(value) if isinstance(value, bytes) else value for key, value in decoded["args"].items()},
        block_number=int(decoded["blockNumber"]),
        log_index=int(decoded["logIndex"]),
        tx_hash=bytes(decoded["transactionHash"]),
    )
