"""Nonce allocation per sender. The Django side implements the Protocol over a row locked with
select_for_update (provenance/nonces.py); the in-memory allocator serves scripts, tests and benchmarks."""

import threading
from collections.abc import Callable
from typing import Protocol

from web3 import Web3


class NonceAllocator(Protocol):
    def allocate(self, sender: str) -> int:
        """Return the next nonce for `sender`; it stays reserved until confirmed or released."""
        ...

    def confirm(self, sender: str, nonce: int) -> None:
        """The transaction with this nonce was broadcast (or mined): never hand the nonce out again."""
        ...

    def release(self, sender: str, nonce: int) -> None:
        """The transaction was never broadcast: the nonce may be handed out again."""
        ...


class InMemoryNonceAllocator:
    """Thread-safe. Seeds each sender from `chain_nonce(sender)` (e.g. the node's pending transaction
    count) on first use; a released nonce is handed out again before any higher one, so no gap stays."""

    def __init__(self, *, chain_nonce: Callable[[str], int]) -> None:
        self._chain_nonce = chain_nonce
        self._lock = threading.Lock()
        self._next: dict[str, int] = {}
        self._released: dict[str, set[int]] = {}
        self._outstanding: dict[str, set[int]] = {}

    @classmethod
    def for_web3(cls, w3: Web3) -> "InMemoryNonceAllocator":
        return cls(chain_nonce=lambda sender: w3.eth.get_transaction_count(sender, "pending"))

    def allocate(self, sender: str) -> int:
        key = sender.lower()
        with self._lock:
            if key not in self._next:
                self._next[key] = int(self._chain_nonce(sender))
            released = self._released.get(key)
            if released:
                nonce = min(released)
                released.remove(nonce)
            else:
                nonce = self._next[key]
                self._next[key] = nonce + 1
            self._outstanding.setdefault(key, set()).add(nonce)
            return nonce

    def confirm(self, sender: str, nonce: int) -> None:
        with self._lock:
            self._outstanding.get(sender.lower(), set()).discard(nonce)

    def release(self, sender: str, nonce: int) -> None:
        key = sender.lower()
        with self._lock:
            outstanding = self._outstanding.get(key, set())
            if nonce not in outstanding:
                raise ValueError(f"nonce {nonce} of {sender} is not outstanding")
            outstanding.remove(nonce)
            if nonce == self._next[key] - 1:
                self._next[key] = nonce
                # fold back any released nonces now at the top
                released = self._released.setdefault(key, set())
                while self._next[key] - 1 in released:
                    released.remove(self._next[key] - 1)
                    self._next[key] -= 1
            else:
                self._released.setdefault(key, set()).add(nonce)

    def resync(self, sender: str) -> None:
        """Forget local state for `sender` (e.g. after the chain was reset); the next allocate re-seeds."""
        key = sender.lower()
        with self._lock:
            self._next.pop(key, None)
            self._released.pop(key, None)
            self._outstanding.pop(key, None)
