"""provenance.chain.nonces' NonceAllocator on the database: one `SenderNonce` row per (chain, sender), locked
with select_for_update (provenance.locks) while a transaction is signed.

A nonce is consumed only by a stored signed transaction: `allocate()` must run inside the same
`transaction.atomic()` block that saves the signed raw bytes, so the increment and the outbox row commit
together (or roll back together, which releases the nonce). Concurrent signers queue on the row lock, so
nonces are never reused and never skipped.
"""

from collections.abc import Mapping

from django.db import connection
from web3 import Web3

from provenance.locks import lock_sender_nonce
from provenance.models import SenderNonce


class DatabaseNonceAllocator:
    def __init__(self, *, chain_id: int, chain_floor: Mapping[str, int] | None = None) -> None:
        """`chain_floor`: each sender's nonce as the node counts it (pending transactions included), read
        *before* the database transaction (no network calls under a lock). A nonce below it is taken on
        chain already, e.g. by a transaction signed elsewhere with the same key."""
        self.chain_id = chain_id
        self._floor = {Web3.to_checksum_address(k): int(v) for k, v in (chain_floor or {}).items()}

    def lock(self, sender: str) -> SenderNonce:
        """Lock the sender's row (creating it on first use) for the rest of the current transaction."""
        if not connection.in_atomic_block:
            raise RuntimeError("nonces are allocated inside transaction.atomic(), with the signed transaction")
        sender = Web3.to_checksum_address(sender)
        return lock_sender_nonce(chain_id=self.chain_id, sender=sender, first_nonce=self._floor.get(sender, 0))

    def peek(self, sender: str) -> int:
        row = self.lock(sender)
        return max(row.next_nonce, self._floor.get(row.sender, 0))

    def allocate(self, sender: str) -> int:
        row = self.lock(sender)
        nonce = max(row.next_nonce, self._floor.get(row.sender, 0))
        row.next_nonce = nonce + 1
        row.save(update_fields=["next_nonce", "updated_at"])
        return nonce

    def confirm(self, sender: str, nonce: int) -> None:
        """Nothing to do: the nonce was consumed when the signed transaction committed."""

    def release(self, sender: str, nonce: int) -> None:
        """Give back the most recent allocation of this transaction (prefer rolling the transaction back)."""
        row = self.lock(sender)
        if row.next_nonce != nonce + 1:
            raise ValueError(f"nonce {nonce} of {sender} is not the latest allocation (next is {row.next_nonce})")
        row.next_nonce = nonce
        row.save(update_fields=["next_nonce", "updated_at"])

    def resync(self, sender: str, *, next_nonce: int) -> None:
        """Set the next nonce outright (the chain was reset and every earlier transaction is lost)."""
        row = self.lock(sender)
        row.next_nonce = next_nonce
        row.save(update_fields=["next_nonce", "updated_at"])
