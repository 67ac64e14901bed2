"""Certificates check out with only an RPC endpoint, and tampered ones do not."""

import copy
import json
import shutil
import subprocess
import sys

import pytest
from web3 import Web3

from provenance.proofs import verify_certificate
from tests.helpers import REPO

pytestmark = [pytest.mark.chain, pytest.mark.django_db]


@pytest.fixture
def certified(chain_settings, register_image, run_chain, anvil_mine, api):
    records = [register_image(seed) for seed in range(3)]
    run_chain("batch")
    anvil_mine(2)
    run_chain("confirm")
    record, raw = records[1]
    response = api.get(f"/api/v1/provenance/{record.public_id}/certificate")
    assert response.status_code == 200, response.content
    return response.json(), raw, chain_settings.CHAIN_RPC_URL


def run_verifier(tmp_path, certificate: dict, rpc_url: str, *extra: str) -> subprocess.CompletedProcess:
    """The verifier copied out of the repository and run with a bare environment: it needs web3 and nothing else."""
    script = tmp_path / "verify_certificate.py"
    shutil.copy(REPO / "provenance" / "proofs" / "verify_certificate.py", script)
    path = tmp_path / "certificate.json"
    path.write_text(json.dumps(certificate))
    return subprocess.run(
        [sys.executable, str(script), str(path), "--rpc", rpc_url, *extra],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_certificate_verifies_against_the_chain_with_only_an_rpc_endpoint(certified, tmp_path):
    certificate, raw, rpc_url = certified
    image = tmp_path / "art.png"
    image.write_bytes(raw)
    result = run_verifier(tmp_path, certificate, rpc_url, "--file", str(image))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALID" in result.stdout and "FAIL" not in result.stdout


def test_the_module_form_documented_in_the_certificate_runs(certified, tmp_path):
    certificate, _, rpc_url = certified
    path = tmp_path / "certificate.json"
    path.write_text(json.dumps(certificate))
    result = subprocess.run(
        [sys.executable, "-m", "provenance.proofs.verify_certificate", str(path), "--rpc", rpc_url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert certificate["verification"]["command"].startswith("atelier-verify ")


def _recomputed_leaf(certificate: dict) -> str:
    leaf = certificate["leaf"]
    value = verify_certificate.leaf_hash(
        content_sha256=bytes.fromhex(leaf["content_sha256"][2:]),
        perceptual_hash=bytes.fromhex(leaf["perceptual_hash"][2:]),
        creator_hash=bytes.fromhex(leaf["creator_hash"][2:]),
    )
    return "0x" + value.hex()


def _other_content(certificate: dict) -> None:
    """A forger swaps in other content and keeps the certificate self-consistent."""
    certificate["leaf"]["content_sha256"] = "0x" + "ee" * 32
    certificate["leaf"]["value"] = _recomputed_leaf(certificate)


def _other_creator(certificate: dict) -> None:
    certificate["leaf"]["creator"] = "accounts.user:forger"
    certificate["leaf"]["creator_hash"] = "0x" + Web3.keccak(text="accounts.user:forger").hex().removeprefix("0x")
    certificate["leaf"]["value"] = _recomputed_leaf(certificate)


def _bent_proof(certificate: dict) -> None:
    certificate["merkle"]["proof"][0] = "0x" + "00" * 32


def _unanchored_root(certificate: dict) -> None:
    """Leaf and proof consistent with a root that was never anchored."""
    leaf = bytes.fromhex(certificate["leaf"]["value"][2:])
    proof = [bytes.fromhex(node[2:]) for node in certificate["merkle"]["proof"]][:-1]
    certificate["merkle"]["proof"] = ["0x" + node.hex() for node in proof]
    certificate["merkle"]["root"] = "0x" + verify_certificate.root_from_proof(leaf, proof).hex()


def _other_chain(certificate: dict) -> None:
    certificate["anchor"]["chain_id"] = 1


@pytest.mark.parametrize("tamper", [_other_content, _other_creator, _bent_proof, _unanchored_root, _other_chain])
def test_a_tampered_certificate_is_rejected(certified, tmp_path, tamper):
    certificate, _, rpc_url = certified
    forged = copy.deepcopy(certificate)
    tamper(forged)
    result = run_verifier(tmp_path, forged, rpc_url)
    assert result.returncode == 1, result.stdout
    assert "INVALID" in result.stdout and "FAIL" in result.stdout


def test_a_different_file_is_rejected(certified, tmp_path):
    certificate, _, rpc_url = certified
    other = tmp_path / "other.png"
    other.write_bytes(b"something else")
    result = run_verifier(tmp_path, certificate, rpc_url, "--file", str(other))
    assert result.returncode == 1 and "FAIL  the file's sha256" in result.stdout


def test_the_embedded_abi_is_the_registrys_and_the_verifiers(certified):
    certificate, _, _ = certified

    def by_name(items):
        return {item["name"]: json.dumps(item, sort_keys=True) for item in items}

    assert by_name(certificate["verification"]["abi"]) == by_name(verify_certificate.REGISTRY_ABI)
