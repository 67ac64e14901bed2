"""Self-contained provenance certificates: everything a third party needs to check a record against the chain
with only an RPC endpoint (see provenance/proofs/verify_certificate.py, which checks one).

Format 2 (`certificate_for`): the record and its current owner, every ownership and licence event with its
transaction, block and confirmations at issue, the lineage (dataset -> model version) and the licence sales,
each with its own leaf and Merkle proof, the content and PDQ hashes, the C2PA manifest digest when the
credentials module is installed, and the issuer's EIP-191 signature over the canonical JSON. Format 1
(`certificate_v1_for`) is what was issued before; the checker still accepts both.
"""

import logging
from typing import Any

from django.utils import timezone

from core.errors import Conflict
from provenance.chain.registry import registry_artifact
from provenance.errors import ProvenanceError
from provenance.models import ProvenanceRecord
from provenance.proofs.encoding import hex0x, reference_hash
from provenance.proofs.verify_certificate import FORMAT, FORMAT_V1, sign_certificate
from provenance.selectors import anchor_of, licences_of, lineage_of, owner_history

logger = logging.getLogger("atelier.provenance")

VERIFIER_FUNCTIONS = ("verify_proof", "batch_time", "verify_record", "BatchAnchored", "is_writer", "current_owner")
HEAD_RPC_TIMEOUT_S = 3.0

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
STEPS_V2 = [
    *STEPS,
    "signature: recover the EIP-191 (personal_sign) signer of the canonical JSON of the certificate without "
    "'signature' (sorted keys, separators ',' ':', UTF-8); it must equal signature.signer and "
    "registry.is_writer(signer) must be true",
    "every lineage and licence entry: the same leaf, proof and anchor checks; sha256(canonical JSON of its "
    "manifest) must equal its leaf.content_sha256, and its leaf.perceptual_hash must equal "
    "manifest.parent_sha256 (32 zero bytes without a parent): the parent link is in the leaf on chain",
    "lineage is oldest first: each entry's manifest.parent_sha256 is the content hash of the entry before it; "
    "record.parent_sha256 is the last entry's (the artwork's own leaf predates lineage, so this link is "
    "certified by the signature, not by the leaf)",
    "events: each transfer's transaction has status 1 in its block; registry.current_owner(content_sha256) "
    "must equal keccak256(owner.current) after a transfer",
]


def _not_anchored(record: ProvenanceRecord) -> Conflict:
    return Conflict(
        f"The record is {record.state}: a certificate is issued once its batch is anchored on chain.",
        code=ProvenanceError.NOT_ANCHORED,
        state=record.state,
    )


def _leaf(record: ProvenanceRecord, anchor: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "content_sha256": "0x" + record.content_sha256,
        "perceptual_hash": "0x" + record.pdq,
        "creator": record.creator,
        "creator_hash": hex0x(reference_hash(record.creator)),
        "encoding": "keccak256(keccak256(abi.encode(bytes32 content_sha256, bytes32 perceptual_hash, "
        "bytes32 creator_hash)))",
        "value": anchor["leaf"] if anchor else None,
    }


def _merkle(anchor: dict[str, Any]) -> dict[str, Any]:
    return {
        "root": anchor["root"],
        "leaf_index": anchor["leaf_index"],
        "leaf_count": anchor["leaf_count"],
        "proof": anchor["proof"],
        "node_hashing": "keccak256(min(a, b) ++ max(a, b))",
    }


def _anchor(anchor: dict[str, Any], head: int | None = None) -> dict[str, Any]:
    block = anchor["block_number"]
    out = {
        "chain_id": anchor["chain_id"],
        "registry_address": anchor["registry_address"],
        "transaction_hash": anchor["transaction_hash"],
        "block_number": block,
        "anchored_at": anchor["anchored_at"].isoformat() if anchor["anchored_at"] else None,
    }
    return out | ({} if head is None else {"confirmations": _confirmations(head, block)})


def _confirmations(head: int | None, block: int | None) -> int | None:
    return head - block + 1 if head is not None and block is not None and head >= block else None


def certificate_v1_for(*, record: ProvenanceRecord) -> dict[str, Any]:
    """The format 1 certificate (unsigned, no lineage), as issued before format 2."""
    anchor = anchor_of(record=record)
    if anchor is None:
        raise _not_anchored(record)
    abi = [item for item in registry_artifact()["abi"] if item.get("name") in VERIFIER_FUNCTIONS[:4]]
    return {
        "format": FORMAT_V1,
        "issued_at": timezone.now().isoformat(),
        "record": {
            "id": str(record.public_id),
            "subject": record.subject,
            "registered_at": record.created_at.isoformat(),
            "pdq_quality": record.pdq_quality,
        },
        "leaf": _leaf(record, anchor),
        "merkle": _merkle(anchor),
        "anchor": _anchor(anchor),
        "verification": {
            "steps": STEPS,
            "abi": abi,
            "command": "python -m provenance.proofs.verify_certificate certificate.json --rpc <RPC URL> "
            "[--file <image>]",
        },
    }


def _chain_head() -> int | None:
    """The node's latest block, for confirmations at issue; None when the node does not answer."""
    from provenance.connection import chain_connect
    from provenance.selectors import _is_chain_failure

    try:
        return int(chain_connect(timeout=HEAD_RPC_TIMEOUT_S, retries=1, signer=False).w3.eth.block_number)
    except Exception as exc:
        if not _is_chain_failure(exc):
            raise
        logger.warning("certificate issued without the chain head: %s", type(exc).__name__)
        return None


def _record_fields(record: ProvenanceRecord) -> dict[str, Any]:
    return {
        "id": str(record.public_id),
        "subject": record.subject,
        "kind": record.kind,
        "registered_at": record.created_at.isoformat(),
        "state": record.state,
    }


def _entry(record: ProvenanceRecord, head: int | None) -> dict[str, Any]:
    """A lineage or licence record with its own leaf, proof and anchor (anchor and merkle null while pending)."""
    anchor = anchor_of(record=record)
    entry: dict[str, Any] = {
        "record": _record_fields(record),
        "manifest": record.manifest,
        "leaf": _leaf(record, anchor),
        "merkle": _merkle(anchor) if anchor else None,
        "anchor": _anchor(anchor, head) if anchor else None,
    }
    if record.kind == "dataset":
        entry["contents"] = "public" if record.disclosure else "private"
        entry["disclosure"] = record.disclosure
    return entry


def _events(record: ProvenanceRecord, licences: list[ProvenanceRecord], head: int | None) -> list[dict[str, Any]]:
    events = [
        {
            "kind": entry["kind"],
            "from_ref": entry["from_ref"],
            "to_ref": entry["to_ref"],
            "at": entry["at"].isoformat(),
            "state": entry["state"],
            "transaction_hash": entry["transaction_hash"],
            "block_number": entry["block_number"],
            "confirmations": _confirmations(head, entry["block_number"]),
        }
        for entry in owner_history(record=record)
    ]
    for licence in licences:
        anchor = anchor_of(record=licence)
        block = anchor["block_number"] if anchor else None
        events.append(
            {
                "kind": "licence",
                "from_ref": licence.creator,
                "to_ref": licence.owner,
                "licence_type": licence.manifest.get("licence_type"),
                "record_id": str(licence.public_id),
                "at": licence.created_at.isoformat(),
                "state": licence.state,
                "transaction_hash": anchor["transaction_hash"] if anchor else None,
                "block_number": block,
                "confirmations": _confirmations(head, block),
            }
        )
    events.sort(key=lambda event: event["at"])
    return events


def content_credentials_digest(record: ProvenanceRecord) -> str | None:
    """The C2PA manifest's digest when the credentials module (built separately) is installed; else None."""
    try:
        from provenance.credentials import manifest_digest_for_record  # type: ignore[import-not-found]
    except ImportError:
        return None
    return manifest_digest_for_record(record)


def _signed(certificate: dict[str, Any]) -> dict[str, Any]:
    from provenance.chain.errors import SignerNotConfigured
    from provenance.connection import signing_account

    try:
        account = signing_account()
    except SignerNotConfigured as exc:
        logger.warning("certificate issued unsigned: %s", exc)
        return certificate | {"signature": None}
    return sign_certificate(certificate, private_key=account.key.to_0x_hex())


def certificate_for(*, record: ProvenanceRecord) -> dict[str, Any]:
    """The format 2 certificate of an anchored record, signed; Conflict while it is not anchored yet."""
    anchor = anchor_of(record=record)
    if anchor is None:
        raise _not_anchored(record)
    head = _chain_head()
    lineage = lineage_of(record=record)
    licences = licences_of(record=record)
    abi = [item for item in registry_artifact()["abi"] if item.get("name") in VERIFIER_FUNCTIONS]
    certificate = {
        "format": FORMAT,
        "issued_at": timezone.now().isoformat(),
        "record": _record_fields(record)
        | {
            "pdq_quality": record.pdq_quality,
            "parent_sha256": ("0x" + record.parent.content_sha256) if record.parent_id else None,
        },
        "content": {"sha256": record.content_sha256, "pdq": record.pdq if record.kind == "artwork" else None},
        "owner": {"current": record.owner, "current_hash": hex0x(reference_hash(record.owner))},
        "leaf": _leaf(record, anchor),
        "merkle": _merkle(anchor),
        "anchor": _anchor(anchor, head),
        "chain_head": head,
        "events": _events(record, licences, head),
        "lineage": [_entry(item, head) for item in lineage],
        "licences": [_entry(item, head) for item in licences],
        "manifest": record.manifest or None,
        "content_credentials": content_credentials_digest(record),
        "verification": {
            "steps": STEPS_V2,
            "abi": abi,
            "command": "atelier-verify certificate.json --rpc <RPC URL> [--file <image>] [--registry <address>]",
        },
    }
    return _signed(certificate)
