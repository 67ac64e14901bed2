"""How records become Merkle leaves and transfer arguments on chain (ProvenanceRegistry's bytes32 fields).

content_sha256 and the PDQ hash are 32 bytes each already; opaque reference strings (creator, owners) are
committed to as keccak256 of their UTF-8 bytes, so nothing personal is written on chain.
"""

import re

from eth_utils import keccak

from provenance.proofs.merkle import record_leaf

SHA256_HEX = re.compile(r"^(?:0x)?([0-9a-fA-F]{64})$")


def normalize_sha256(value: str) -> str | None:
    """64 hex characters (optionally 0x-prefixed, any case) -> lowercase hex; None when malformed."""
    match = SHA256_HEX.match(value.strip()) if isinstance(value, str) else None
    return match.group(1).lower() if match else None


def reference_hash(reference: str) -> bytes:
    return keccak(text=reference)


def leaf_for(*, content_sha256: str, pdq: str, creator: str) -> bytes:
    return record_leaf(
        content_sha256=bytes.fromhex(content_sha256),
        perceptual_hash=bytes.fromhex(pdq),
        creator=reference_hash(creator),
    )


def hex0x(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def from_hex0x(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))
