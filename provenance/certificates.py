"""Self-contained provenance certificates: everything a third party needs to check a record against the chain
with only an RPC endpoint (see provenance/verify_certificate.py, which checks one)."""

from typing import Any

from django.utils import timezone

from core.errors import Conflict
from provenance.chain.registry import registry_artifact
from provenance.encoding import hex0x, reference_hash
from provenance.models import ProvenanceRecord
from provenance.selectors import anchor_of
from provenance.verify_certificate import FORMAT

VERIFIER_FUNCTIONS = ("verify_proof", "batch_time", "verify_record", "BatchAnchored")

STEPS = [
    "creator_hash = keccak256(utf8(leaf.creator))",
    "leaf = keccak256(keccak256(leaf.content_sha256 ++ leaf.perceptual_hash ++ creator_hash)), each 32 bytes "
    "(Solidity abi.encode(bytes32, bytes32, bytes32)); compare with leaf.value",
    "node = leaf; for each sibling in merkle.proof: node = keccak256(min(node, sibling) ++ max(node, sibling)) "
    "(byte-wise comparison); the result must equal merkle.root",
    "eth_chainId of your RPC endpoint must equal anchor.chain_id",
    "call registry.verify_proof(root, leaf, proof) at anchor.registry_address: must be true",
    "call registry.batch_time(root): non-zero means the root is anchored (the value is the block timestamp)",
    "call registry.verify_record(root, content_sha256, perceptual_hash, creator_hash, proof): must be true",
    "eth_getTransactionReceipt(anchor.transaction_hash): status 1, in anchor.block_number, with a "
    "BatchAnchored(root) log from the registry",
    "optionally: sha256 of the file must equal leaf.content_sha256",
]


def certificate_for(*, record: ProvenanceRecord) -> dict[str, Any]:
    """The certificate of an anchored record; Conflict while it is not anchored yet."""
    anchor = anchor_of(record=record)
    if anchor is None:
        raise Conflict(f"The record is {record.state}: a certificate is issued once its batch is anchored on chain.",
                       code="not_anchored", state=record.state)
    abi = [item for item in registry_artifact()["abi"] if item.get("name") in VERIFIER_FUNCTIONS]
    return {
        "format": FORMAT,
        "issued_at": timezone.now().isoformat(),
        "record": {"id": str(record.public_id), "subject": record.subject,
                   "registered_at": record.created_at.isoformat(), "pdq_quality": record.pdq_quality},
        "leaf": {
            "content_sha256": "0x" + record.content_sha256,
            "perceptual_hash": "0x" + record.pdq,
            "creator": record.creator,
            "creator_hash": hex0x(reference_hash(record.creator)),
            "encoding": "keccak256(keccak256(abi.encode(bytes32 content_sha256, bytes32 perceptual_hash, "
                        "bytes32 creator_hash)))",
            "value": anchor["leaf"],
        },
        "merkle": {"root": anchor["root"], "leaf_index": anchor["leaf_index"], "leaf_count": anchor["leaf_count"],
                   "proof": anchor["proof"], "node_hashing": "keccak256(min(a, b) ++ max(a, b))"},
        "anchor": {"chain_id": anchor["chain_id"], "registry_address": anchor["registry_address"],
                   "transaction_hash": anchor["transaction_hash"], "block_number": anchor["block_number"],
                   "anchored_at": anchor["anchored_at"].isoformat() if anchor["anchored_at"] else None},
        "verification": {
            "steps": STEPS,
            "abi": abi,
            "command": "python -m provenance.verify_certificate certificate.json --rpc <RPC URL> [--file <image>]",
        },
    }
