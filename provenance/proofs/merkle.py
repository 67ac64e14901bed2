"""Merkle trees over provenance records, bit-compatible with ProvenanceRegistry.vy (OpenZeppelin conventions).

leaf = keccak256(keccak256(abi.encode(bytes32 content_sha256, bytes32 perceptual_hash, bytes32 creator)))
node = keccak256(min(a, b) ++ max(a, b))   (sorted pairs, so a proof needs no left/right flags)

Double hashing the leaf keeps a 64-byte inner node from ever passing as a leaf (second preimage).
A node without a sibling on its level moves up unchanged, so any leaf count works, 1 included
(its root is the leaf and its proof is empty).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from Crypto.Hash import keccak as _keccak


def keccak256(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()


def record_leaf(*, content_sha256: bytes, perceptual_hash: bytes, creator: bytes) -> bytes:
    for name, value in (
        ("content_sha256", content_sha256),
        ("perceptual_hash", perceptual_hash),
        ("creator", creator),
    ):
        if len(value) != 32:
            raise ValueError(f"{name} must be 32 bytes, got {len(value)}")
    # abi.encode of three bytes32 values is their plain concatenation
    return keccak256(keccak256(content_sha256 + perceptual_hash + creator))


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak256(a + b if a < b else b + a)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    computed = leaf
    for sibling in proof:
        computed = hash_pair(computed, sibling)
    return computed


def verify_proof(*, root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    return process_proof(leaf, proof) == root


@dataclass(frozen=True, slots=True)
class MerkleTree:
    levels: tuple[tuple[bytes, ...], ...]  # levels[0] are the leaves, levels[-1] == (root,)

    @classmethod
    def build(cls, leaves: Sequence[bytes]) -> "MerkleTree":
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        level = tuple(leaves)
        if any(len(leaf) != 32 for leaf in level):
            raise ValueError("every leaf must be 32 bytes")
        levels = [level]
        while len(level) > 1:
            paired = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                paired.append(level[-1])
            level = tuple(paired)
            levels.append(level)
        return cls(levels=tuple(levels))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    @property
    def leaf_count(self) -> int:
        return len(self.levels[0])

    def proof(self, index: int) -> list[bytes]:
        if not 0 <= index < self.leaf_count:
            raise IndexError(f"leaf index {index} out of range for {self.leaf_count} leaves")
        proof = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof

    def proofs(self) -> list[list[bytes]]:
        return [self.proof(index) for index in range(self.leaf_count)]
