"""X.509 material for C2PA signing: the development CA and signer that `make run` and the tests use, and the
facts verify reports about a signer. No Django here.

The C2PA SDK accepts an end-entity certificate only with CA:false, KeyUsage digitalSignature and an extended key
usage it knows (emailProtection works with no extra trust configuration; see shared probes notes), ECDSA P-256,
chained end-entity first to a root it can anchor. The development pair says DEVELOPMENT in every name, so a
file signed by it can never pass for one signed by an operator's certificate."""

import datetime
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEVELOPMENT_MARK = "DEVELOPMENT"
DEV_ROOT_CN = f"Atelier {DEVELOPMENT_MARK} C2PA root (not trusted anywhere else)"
DEV_SIGNER_CN = f"Atelier {DEVELOPMENT_MARK} C2PA signer"
DEV_ORGANIZATION = f"Atelier {DEVELOPMENT_MARK} only"
CHAIN_FILE, KEY_FILE, ROOT_FILE = "signer-chain.pem", "signer-key.pem", "root.pem"


@dataclass(frozen=True)
class SigningMaterial:
    chain_pem: bytes  # end-entity first, then the root
    key_pem: bytes
    root_pem: bytes  # the trust anchor verify uses


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def issue_signing_material(*, root_cn: str, signer_cn: str, organization: str, days: int = 3650) -> SigningMaterial:
    """A fresh P-256 root and an end-entity signing certificate under it (emailProtection EKU)."""
    now = datetime.datetime.now(datetime.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(root_cn, organization)
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    signer = (
        x509.CertificateBuilder()
        .subject_name(_name(signer_cn, organization))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=min(days, 825)))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return SigningMaterial(chain_pem=_pem(signer) + _pem(root), key_pem=key_pem, root_pem=_pem(root))


def development_material(directory: Path) -> SigningMaterial:
    """The development CA and signer under `directory`, created on first use and reused after (so files signed
    yesterday still verify as trusted by `make run` today)."""
    paths = {name: directory / name for name in (CHAIN_FILE, KEY_FILE, ROOT_FILE)}
    if not all(path.is_file() for path in paths.values()):
        _create_development_material(directory)
    return SigningMaterial(
        chain_pem=paths[CHAIN_FILE].read_bytes(),
        key_pem=paths[KEY_FILE].read_bytes(),
        root_pem=paths[ROOT_FILE].read_bytes(),
    )


def _create_development_material(directory: Path) -> None:
    """Write the three files into a staging directory and rename it into place in one step, so processes
    starting together (web workers, test workers) never combine one's key with another's certificate: the
    rename replaces a missing or empty directory and fails on a filled one, whose set then stands."""
    material = issue_signing_material(root_cn=DEV_ROOT_CN, signer_cn=DEV_SIGNER_CN, organization=DEV_ORGANIZATION)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        for name, data in (
            (CHAIN_FILE, material.chain_pem),
            (ROOT_FILE, material.root_pem),
            (KEY_FILE, material.key_pem),
        ):
            (staging / name).write_bytes(data)
            (staging / name).chmod(0o600 if name == KEY_FILE else 0o644)
        try:
            os.rename(staging, directory)
            return
        except OSError:
            if all((directory / name).is_file() for name in (CHAIN_FILE, KEY_FILE, ROOT_FILE)):
                return  # another process's complete set won
        # the directory holds other files but not a whole set: place ours beside them
        for name in (CHAIN_FILE, ROOT_FILE, KEY_FILE):
            (staging / name).replace(directory / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def is_development_chain(chain_pem: bytes) -> bool:
    """Whether the signing certificate (the first in the chain) is a development one."""
    return any(DEVELOPMENT_MARK in value for value in subject_names(first_certificate(chain_pem)))


def first_certificate(chain_pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificates(chain_pem)[0]


def subject_names(certificate: x509.Certificate) -> list[str]:
    return [str(attribute.value) for attribute in certificate.subject]


def check_signing_material(*, chain_pem: bytes, key_pem: bytes) -> list[str]:
    """What is wrong with a configured chain and key, in words (empty when they look usable)."""
    try:
        certificates = x509.load_pem_x509_certificates(chain_pem)
    except ValueError:
        return ["the certificate chain is not PEM certificates"]
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        return ["the private key is not an unencrypted PEM key"]
    problems = []
    signer = certificates[0]
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != signer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        problems.append("the private key does not belong to the first certificate of the chain")
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        problems.append("the key must be ECDSA P-256 (signed as ES256)")
    if signer.not_valid_after_utc < datetime.datetime.now(datetime.UTC):
        problems.append("the signing certificate has expired")
    return problems
