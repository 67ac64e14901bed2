"""Check an Atelier provenance certificate with nothing but an Ethereum JSON-RPC endpoint.

    python -m provenance.verify_certificate certificate.json --rpc https://rpc.example [--file artwork.png]

Standalone on purpose (web3 and the standard library only; copy this file anywhere): nothing here trusts
Atelier's servers. It recomputes the Merkle leaf from the certificate's fields and the root from the proof,
then asks the registry contract on chain whether that proof leads to that root (verify_proof), whether the
root is anchored (batch_time, verify_record), and whether the anchoring transaction is the one named.
Exit status 0 when every check passes, 1 otherwise.
"""

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import HTTPProvider, Web3

FORMAT = "atelier-provenance-certificate/1"

# The registry functions a verifier calls (the same fragment is embedded in every certificate).
REGISTRY_ABI: list[dict[str, Any]] = [
    {"type": "function", "name": "verify_proof", "stateMutability": "pure",
     "inputs": [{"name": "root", "type": "bytes32"}, {"name": "leaf", "type": "bytes32"},
                {"name": "proof", "type": "bytes32[]"}],
     "outputs": [{"name": "", "type": "bool"}]},
    {"type": "function", "name": "batch_time", "stateMutability": "view",
     "inputs": [{"name": "arg0", "type": "bytes32"}], "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "verify_record", "stateMutability": "view",
     "inputs": [{"name": "root", "type": "bytes32"}, {"name": "content_hash", "type": "bytes32"},
                {"name": "perceptual_hash", "type": "bytes32"}, {"name": "creator", "type": "bytes32"},
                {"name": "proof", "type": "bytes32[]"}],
     "outputs": [{"name": "", "type": "bool"}]},
    {"type": "event", "name": "BatchAnchored", "anonymous": False,
     "inputs": [{"name": "root", "type": "bytes32", "indexed": True},
                {"name": "leaf_count", "type": "uint256", "indexed": False}]},
]
BATCH_ANCHORED_TOPIC = Web3.keccak(text="BatchAnchored(bytes32,uint256)")


def _b32(value: str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}: {value}")
    return raw


def leaf_hash(*, content_sha256: bytes, perceptual_hash: bytes, creator_hash: bytes) -> bytes:
    """keccak256(keccak256(abi.encode(bytes32, bytes32, bytes32))); abi.encode of bytes32s is concatenation."""
    return bytes(Web3.keccak(Web3.keccak(content_sha256 + perceptual_hash + creator_hash)))


def root_from_proof(leaf: bytes, proof: list[bytes]) -> bytes:
    node = leaf
    for sibling in proof:
        node = bytes(Web3.keccak(node + sibling if node < sibling else sibling + node))
    return node


@dataclass
class Report:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((name, bool(ok), detail))
        return bool(ok)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)


def verify(certificate: dict[str, Any], *, rpc_url: str, file_bytes: bytes | None = None,
           timeout: float = 10.0) -> Report:
    report = Report()
    try:
        leaf_fields, merkle, anchor = certificate["leaf"], certificate["merkle"], certificate["anchor"]
        content, pdq = _b32(leaf_fields["content_sha256"]), _b32(leaf_fields["perceptual_hash"])
        creator_hash = _b32(leaf_fields["creator_hash"])
        claimed_leaf, root = _b32(leaf_fields["value"]), _b32(merkle["root"])
        proof = [_b32(node) for node in merkle["proof"]]
        chain_id, registry_address = int(anchor["chain_id"]), Web3.to_checksum_address(anchor["registry_address"])
        tx_hash, block_number = anchor["transaction_hash"], int(anchor["block_number"])
    except (KeyError, TypeError, ValueError) as exc:
        report.add("certificate is well-formed", False, f"{type(exc).__name__}: {exc}")
        return report
    report.add("format", certificate.get("format") == FORMAT, str(certificate.get("format")))
    if "creator" in leaf_fields:
        report.add("creator hash is keccak256 of the creator reference",
                   bytes(Web3.keccak(text=leaf_fields["creator"])) == creator_hash, leaf_fields["creator"])
    leaf = leaf_hash(content_sha256=content, perceptual_hash=pdq, creator_hash=creator_hash)
    report.add("leaf recomputed from the record fields", leaf == claimed_leaf, "0x" + leaf.hex())
    report.add("root recomputed from the leaf and the proof", root_from_proof(leaf, proof) == root, "0x" + root.hex())
    if file_bytes is not None:
        digest = hashlib.sha256(file_bytes).digest()
        report.add("the file's sha256 is the certified content hash", digest == content, digest.hex())

    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    try:
        served = w3.eth.chain_id
    except Exception as exc:  # any transport failure: the verdict is "could not check"
        report.add("RPC endpoint answers", False, f"{rpc_url}: {exc}")
        return report
    if not report.add("RPC serves the certified chain", served == chain_id, f"chain {served}, expected {chain_id}"):
        return report
    if not report.add("registry contract exists", len(w3.eth.get_code(registry_address)) > 0, registry_address):
        return report
    registry = w3.eth.contract(address=registry_address, abi=REGISTRY_ABI)
    report.add("registry.verify_proof(root, leaf, proof) on chain",
               registry.functions.verify_proof(root, leaf, proof).call(), "")
    anchored_at = registry.functions.batch_time(root).call()
    report.add("registry.batch_time(root) is set: the root is anchored", anchored_at > 0, f"timestamp {anchored_at}")
    report.add("registry.verify_record(...) on chain",
               registry.functions.verify_record(root, content, pdq, creator_hash, proof).call(), "")
    try:
        receipt = w3.eth.get_transaction_receipt(tx_hash)
    except Exception as exc:
        report.add("anchoring transaction is on chain", False, f"{tx_hash}: {exc}")
        return report
    report.add("anchoring transaction succeeded in the certified block",
               int(receipt["status"]) == 1 and int(receipt["blockNumber"]) == block_number,
               f"status {receipt['status']}, block {receipt['blockNumber']}")
    anchored_here = any(
        Web3.to_checksum_address(log["address"]) == registry_address and len(log["topics"]) > 1
        and bytes(log["topics"][0]) == bytes(BATCH_ANCHORED_TOPIC) and bytes(log["topics"][1]) == root
        for log in receipt["logs"]
    )
    report.add("the transaction emitted BatchAnchored(root) from the registry", anchored_here, tx_hash)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("certificate", type=Path, help="the certificate JSON file")
    parser.add_argument("--rpc", required=True, help="an Ethereum JSON-RPC URL of the certified chain")
    parser.add_argument("--file", type=Path, help="also check that this file is the certified content")
    args = parser.parse_args(argv)
    try:
        certificate = json.loads(args.certificate.read_text())
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.certificate}: {exc}", file=sys.stderr)
        return 1
    report = verify(certificate, rpc_url=args.rpc,
                    file_bytes=args.file.read_bytes() if args.file is not None else None)
    for name, ok, detail in report.checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  ({detail})" if detail else ""))
    print("VALID: the certificate checks out against the chain" if report.ok else "INVALID")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
