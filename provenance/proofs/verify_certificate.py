"""Check an Atelier provenance certificate with nothing but an Ethereum JSON-RPC endpoint.

    atelier-verify certificate.json --rpc https://rpc.example [--file artwork.png]
    python -m provenance.proofs.verify_certificate certificate.json --rpc https://rpc.example [--file artwork.png]

Standalone on purpose (web3 and the standard library only; copy this file anywhere): nothing here trusts
Atelier's servers. It recomputes the Merkle leaf from the certificate's fields and the root from the proof,
then asks the registry contract on chain whether that proof leads to that root (verify_proof), whether the
root is anchored (batch_time, verify_record), and whether the anchoring transaction is the one named.

Format 2 adds, and this checks: the issuer's EIP-191 signature over the certificate's canonical JSON, whose
signer the registry must list as a writer (is_writer); the lineage (dataset -> model version) and the licence
sales, each a record with its own leaf, proof and anchor, their manifests hashing to their content hashes and
each linked to its parent; every ownership transfer's transaction; the current owner on chain.
Format 1 certificates (unsigned, no lineage) are checked as before.
Exit status 0 when every check passes, 1 otherwise.
"""

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import HTTPProvider, Web3

FORMAT_V1 = "atelier-provenance-certificate/1"
FORMAT = "atelier-provenance-certificate/2"
FORMATS = (FORMAT_V1, FORMAT)
SIGNATURE_SCHEME = "eip191-personal-sign"
ZERO32 = bytes(32)

# The registry functions a verifier calls (the same fragment is embedded in every certificate).
REGISTRY_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "verify_proof",
        "stateMutability": "pure",
        "inputs": [
            {"name": "root", "type": "bytes32"},
            {"name": "leaf", "type": "bytes32"},
            {"name": "proof", "type": "bytes32[]"},
        ],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "function",
        "name": "batch_time",
        "stateMutability": "view",
        "inputs": [{"name": "arg0", "type": "bytes32"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "verify_record",
        "stateMutability": "view",
        "inputs": [
            {"name": "root", "type": "bytes32"},
            {"name": "content_hash", "type": "bytes32"},
            {"name": "perceptual_hash", "type": "bytes32"},
            {"name": "creator", "type": "bytes32"},
            {"name": "proof", "type": "bytes32[]"},
        ],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "event",
        "name": "BatchAnchored",
        "anonymous": False,
        "inputs": [
            {"name": "root", "type": "bytes32", "indexed": True},
            {"name": "leaf_count", "type": "uint256", "indexed": False},
        ],
    },
    {
        "type": "function",
        "name": "is_writer",
        "stateMutability": "view",
        "inputs": [{"name": "arg0", "type": "address"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "function",
        "name": "current_owner",
        "stateMutability": "view",
        "inputs": [{"name": "content_hash", "type": "bytes32"}],
        "outputs": [{"name": "", "type": "bytes32"}],
    },
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


def canonical_json(value: Any) -> bytes:
    """What is hashed (lineage manifests) and signed (the certificate without its signature): sorted keys,
    no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signed_bytes(certificate: dict[str, Any]) -> bytes:
    return canonical_json({key: value for key, value in certificate.items() if key != "signature"})


def sign_certificate(certificate: dict[str, Any], *, private_key: str) -> dict[str, Any]:
    """The certificate with its `signature`: EIP-191 personal_sign of signed_bytes(certificate)."""
    signed = Account.sign_message(encode_defunct(primitive=signed_bytes(certificate)), private_key=private_key)
    account = Account.from_key(private_key)
    return certificate | {
        "signature": {
            "scheme": SIGNATURE_SCHEME,
            "signer": account.address,
            "value": "0x" + bytes(signed.signature).hex(),
            "signs": "EIP-191 personal_sign over the canonical JSON of this certificate without 'signature' "
            "(sorted keys, separators ',' and ':', UTF-8); the signer must be a writer of the registry",
        }
    }


def recover_signer(certificate: dict[str, Any]) -> str:
    signature = certificate["signature"]["value"]
    return Account.recover_message(encode_defunct(primitive=signed_bytes(certificate)), signature=signature)


def root_from_proof(leaf: bytes, proof: list[bytes]) -> bytes:
    node = leaf
    for sibling in proof:
        node = bytes(Web3.keccak(node + sibling if node < sibling else sibling + node))
    return node


@dataclass
class Report:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    notes: list[str] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((name, bool(ok), detail))
        return bool(ok)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)


@dataclass
class Anchored:
    """One record's leaf, proof and anchor, parsed from a certificate (the top level or a lineage entry)."""

    label: str
    content: bytes
    pdq: bytes
    creator_hash: bytes
    claimed_leaf: bytes
    root: bytes
    proof: list[bytes]
    chain_id: int
    registry_address: str
    tx_hash: str
    block_number: int
    creator: str | None


def parse_anchored(entry: dict[str, Any], label: str) -> Anchored:
    leaf_fields, merkle, anchor = entry["leaf"], entry["merkle"], entry["anchor"]
    return Anchored(
        label=label,
        content=_b32(leaf_fields["content_sha256"]),
        pdq=_b32(leaf_fields["perceptual_hash"]),
        creator_hash=_b32(leaf_fields["creator_hash"]),
        claimed_leaf=_b32(leaf_fields["value"]),
        root=_b32(merkle["root"]),
        proof=[_b32(node) for node in merkle["proof"]],
        chain_id=int(anchor["chain_id"]),
        registry_address=Web3.to_checksum_address(anchor["registry_address"]),
        tx_hash=anchor["transaction_hash"],
        block_number=int(anchor["block_number"]),
        creator=leaf_fields.get("creator"),
    )


def check_offline(item: Anchored, report: Report) -> bytes:
    """The leaf and the root recomputed from the certified fields; returns the recomputed leaf."""
    prefix = "" if item.label == "record" else f"{item.label}: "
    if item.creator is not None:
        report.add(
            f"{prefix}creator hash is keccak256 of the creator reference",
            bytes(Web3.keccak(text=item.creator)) == item.creator_hash,
            item.creator,
        )
    leaf = leaf_hash(content_sha256=item.content, perceptual_hash=item.pdq, creator_hash=item.creator_hash)
    report.add(f"{prefix}leaf recomputed from the record fields", leaf == item.claimed_leaf, "0x" + leaf.hex())
    report.add(
        f"{prefix}root recomputed from the leaf and the proof",
        root_from_proof(leaf, item.proof) == item.root,
        "0x" + item.root.hex(),
    )
    return leaf


def check_on_chain(w3: Web3, item: Anchored, leaf: bytes, report: Report) -> None:
    prefix = "" if item.label == "record" else f"{item.label}: "
    registry = w3.eth.contract(address=item.registry_address, abi=REGISTRY_ABI)
    report.add(
        f"{prefix}registry.verify_proof(root, leaf, proof) on chain",
        registry.functions.verify_proof(item.root, leaf, item.proof).call(),
        "",
    )
    anchored_at = registry.functions.batch_time(item.root).call()
    report.add(
        f"{prefix}registry.batch_time(root) is set: the root is anchored", anchored_at > 0, f"timestamp {anchored_at}"
    )
    report.add(
        f"{prefix}registry.verify_record(...) on chain",
        registry.functions.verify_record(item.root, item.content, item.pdq, item.creator_hash, item.proof).call(),
        "",
    )
    try:
        receipt = w3.eth.get_transaction_receipt(item.tx_hash)
    except Exception as exc:
        report.add(f"{prefix}anchoring transaction is on chain", False, f"{item.tx_hash}: {exc}")
        return
    report.add(
        f"{prefix}anchoring transaction succeeded in the certified block",
        int(receipt["status"]) == 1 and int(receipt["blockNumber"]) == item.block_number,
        f"status {receipt['status']}, block {receipt['blockNumber']}",
    )
    anchored_here = any(
        Web3.to_checksum_address(log["address"]) == item.registry_address
        and len(log["topics"]) > 1
        and bytes(log["topics"][0]) == bytes(BATCH_ANCHORED_TOPIC)
        and bytes(log["topics"][1]) == item.root
        for log in receipt["logs"]
    )
    report.add(f"{prefix}the transaction emitted BatchAnchored(root) from the registry", anchored_here, item.tx_hash)


def _check_manifest(entry: dict[str, Any], item: Anchored, label: str, report: Report) -> dict[str, Any]:
    """A derived record: its content hash is the sha256 of its manifest, its leaf names its parent."""
    manifest = entry["manifest"]
    digest = hashlib.sha256(canonical_json(manifest)).digest()
    report.add(f"{label}: content hash is sha256 of its manifest", digest == item.content, digest.hex())
    parent = manifest.get("parent_sha256")
    expected_slot = _b32(parent) if parent else ZERO32
    report.add(
        f"{label}: the leaf's second field is the parent's content hash",
        item.pdq == expected_slot,
        parent or "no parent",
    )
    disclosure = entry.get("disclosure") or {}
    if manifest.get("kind") == "dataset" and "image_sha256s" in disclosure:
        joined = "\n".join(sorted(disclosure["image_sha256s"])).encode("ascii")
        report.add(
            f"{label}: the disclosed image hashes hash to the dataset hash",
            hashlib.sha256(joined).hexdigest() == manifest.get("dataset_hash"),
            manifest.get("dataset_hash"),
        )
    return manifest


def _lineage(certificate: dict[str, Any], top: Anchored, report: Report) -> list[tuple[Anchored, bytes]]:
    """Offline checks of the lineage and licence entries, and the links between them."""
    items: list[tuple[Anchored, bytes]] = []
    previous: tuple[Anchored, dict[str, Any]] | None = None
    for position, entry in enumerate(certificate.get("lineage", [])):
        label = f"lineage[{position}] {entry.get('record', {}).get('kind', '?')}"
        if entry.get("anchor") is None:
            report.notes.append(f"{label}: not anchored when the certificate was issued; not checked on chain")
            previous = None
            continue
        item = parse_anchored(entry, label)
        items.append((item, check_offline(item, report)))
        manifest = _check_manifest(entry, item, label, report)
        if previous is not None:
            parent = str(manifest.get("parent_sha256"))
            report.add(f"{label}: its parent is the entry before it", parent == previous[0].content.hex(), parent)
            if manifest.get("kind") == "model_version" and previous[1].get("kind") == "dataset":
                dataset_hash = manifest.get("dataset_hash")
                report.add(
                    f"{label}: trained on the dataset hash of its dataset record",
                    dataset_hash == previous[1].get("dataset_hash"),
                    str(dataset_hash),
                )
        previous = (item, manifest)
    parent_claim = certificate.get("record", {}).get("parent_sha256")
    if certificate.get("lineage"):
        last = certificate["lineage"][-1]
        report.add(
            "the record's parent is the last lineage entry",
            parent_claim is not None and parent_claim == last["leaf"]["content_sha256"],
            str(parent_claim),
        )
    for position, entry in enumerate(certificate.get("licences", [])):
        label = f"licences[{position}]"
        if entry.get("anchor") is None:
            report.notes.append(f"{label}: not anchored when the certificate was issued; not checked on chain")
            continue
        item = parse_anchored(entry, label)
        items.append((item, check_offline(item, report)))
        manifest = _check_manifest(entry, item, label, report)
        report.add(
            f"{label}: a licence of this content",
            item.pdq == top.content and manifest.get("artwork_sha256") == top.content.hex(),
            str(manifest.get("artwork_sha256")),
        )
    return items


def _signature(certificate: dict[str, Any], w3: Web3 | None, registry_address: str, report: Report) -> None:
    signature = certificate.get("signature")
    if not isinstance(signature, dict) or signature.get("scheme") != SIGNATURE_SCHEME:
        report.add("signed by the issuer", False, "no EIP-191 signature")
        return
    try:
        signer = recover_signer(certificate)
    except Exception as exc:  # a malformed signature of any kind: the verdict is "not signed"
        report.add("signature recovers to an address", False, f"{type(exc).__name__}: {exc}")
        return
    report.add(
        "the signature recovers to the named signer", signer.lower() == str(signature.get("signer", "")).lower(), signer
    )
    if w3 is not None:
        registry = w3.eth.contract(address=registry_address, abi=REGISTRY_ABI)
        report.add(
            "the signer is a writer of the registry (is_writer)", registry.functions.is_writer(signer).call(), signer
        )


def _events(certificate: dict[str, Any], w3: Web3, top: Anchored, report: Report) -> None:
    """Each ownership transfer's transaction succeeded in its block; the registry names the current owner."""
    transferred = False
    for position, event in enumerate(certificate.get("events", [])):
        if event.get("kind") != "transfer" or not event.get("transaction_hash"):
            continue
        transferred = True
        try:
            receipt = w3.eth.get_transaction_receipt(event["transaction_hash"])
        except Exception as exc:
            report.add(f"events[{position}]: transfer transaction is on chain", False, f"{exc}")
            continue
        report.add(
            f"events[{position}]: transfer transaction succeeded in its block",
            int(receipt["status"]) == 1 and int(receipt["blockNumber"]) == int(event["block_number"]),
            event["transaction_hash"],
        )
    owner = certificate.get("owner", {})
    if transferred and owner.get("current"):
        registry = w3.eth.contract(address=top.registry_address, abi=REGISTRY_ABI)
        onchain = bytes(registry.functions.current_owner(top.content).call())
        report.add(
            "registry.current_owner(content) is the certified owner",
            onchain == bytes(Web3.keccak(text=owner["current"])),
            owner["current"],
        )


def verify(
    certificate: dict[str, Any],
    *,
    rpc_url: str,
    file_bytes: bytes | None = None,
    registry: str | None = None,
    timeout: float = 10.0,
) -> Report:
    """Every check of the certificate; `registry` pins the registry address you trust (Atelier publishes
    its), else the certificate's own is used and a note says so."""
    report = Report()
    version = certificate.get("format") if isinstance(certificate, dict) else None
    if not report.add("format", version in FORMATS, str(version)):
        return report
    try:
        top = parse_anchored(certificate, "record")
        if version == FORMAT and certificate.get("manifest"):  # the certificate of a lineage record itself
            _check_manifest(certificate, top, "record", report)
        lineage_items = _lineage(certificate, top, report) if version == FORMAT else []
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        report.add("certificate is well-formed", False, f"{type(exc).__name__}: {exc}")
        return report
    leaf = check_offline(top, report)
    if registry is not None:
        report.add("the registry is the one you trust", top.registry_address.lower() == registry.lower(), registry)
    else:
        report.notes.append(
            f"registry {top.registry_address} is the certificate's own; pass --registry with the "
            "address Atelier publishes to pin it"
        )
    if file_bytes is not None:
        digest = hashlib.sha256(file_bytes).digest()
        report.add("the file's sha256 is the certified content hash", digest == top.content, digest.hex())

    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    try:
        served = w3.eth.chain_id
    except Exception as exc:  # any transport failure: the verdict is "could not check"
        report.add("RPC endpoint answers", False, f"{rpc_url}: {exc}")
        return report
    if not report.add(
        "RPC serves the certified chain", served == top.chain_id, f"chain {served}, expected {top.chain_id}"
    ):
        return report
    if not report.add("registry contract exists", len(w3.eth.get_code(top.registry_address)) > 0, top.registry_address):
        return report
    if version == FORMAT:
        _signature(certificate, w3, top.registry_address, report)
    check_on_chain(w3, top, leaf, report)
    for item, item_leaf in lineage_items:
        if not report.add(f"{item.label}: on the certified chain", item.chain_id == top.chain_id, str(item.chain_id)):
            continue
        check_on_chain(w3, item, item_leaf, report)
    if version == FORMAT:
        _events(certificate, w3, top, report)
    else:
        report.notes.append(
            "format 1: unsigned and without lineage (issued before format 2); its record was checked on chain as before"
        )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="atelier-verify", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("certificate", type=Path, help="the certificate JSON file")
    parser.add_argument("--rpc", required=True, help="an Ethereum JSON-RPC URL of the certified chain")
    parser.add_argument("--file", type=Path, help="also check that this file is the certified content")
    parser.add_argument("--registry", help="the registry address you trust (else the certificate's own)")
    args = parser.parse_args(argv)
    try:
        certificate = json.loads(args.certificate.read_bytes().decode("utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.certificate}: {exc}", file=sys.stderr)
        return 1
    if not isinstance(certificate, dict):
        print(f"{args.certificate} is not a certificate (a JSON object)", file=sys.stderr)
        return 1
    report = verify(
        certificate,
        rpc_url=args.rpc,
        registry=args.registry,
        file_bytes=args.file.read_bytes() if args.file is not None else None,
    )
    for name, ok, detail in report.checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  ({detail})" if detail else ""))
    for note in report.notes:
        print(f"NOTE  {note}")
    print("VALID: the certificate checks out against the chain" if report.ok else "INVALID")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
