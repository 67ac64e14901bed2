"""What production refuses to start with: every default that is safe on a laptop and unsafe with real users.

Settings call `refuse_unsafe_defaults(globals())` last, so the refusal happens at import, before gunicorn
serves a request (gunicorn runs no system checks). Each problem names the variable that fixes it.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

# anvil's first development account: its private key is printed by every anvil and in every tutorial.
ANVIL_DEV_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def _is_fernet_key(key: str) -> bool:
    from cryptography.fernet import Fernet

    try:
        Fernet(key)
    except ValueError:
        return False
    return True


def unsafe_defaults(s: Mapping[str, Any]) -> list[str]:
    problems = []
    if s["PAYMENT_PROVIDER"] != "stripe":
        problems.append(
            f"PAYMENT_PROVIDER={s['PAYMENT_PROVIDER']!r} takes documented test cards as payment; "
            "set PAYMENT_PROVIDER=stripe with STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET."
        )
    if s["STRIPE_API_BASE"]:
        problems.append("STRIPE_API_BASE points payments at a non-Stripe server; unset it.")
    key = (s["CHAIN_PRIVATE_KEY"] or "").lower()
    if key in {"", ANVIL_DEV_PRIVATE_KEY, ANVIL_DEV_PRIVATE_KEY[2:]}:
        problems.append(
            "CHAIN_PRIVATE_KEY is unset or anvil's public development key; anyone could sign as "
            "the registry owner. Set the key of this deployment's own funded account."
        )
    if s["WEBHOOK_ALLOW_PRIVATE_NETWORKS"]:
        problems.append("WEBHOOK_ALLOW_PRIVATE_NETWORKS lets webhook URLs reach internal addresses (SSRF); unset it.")
    if s.get("FIELD_ENCRYPTION_KEYS_DERIVED", True):
        problems.append(
            "FIELD_ENCRYPTION_KEYS is unset: secrets at rest (webhook signing secrets) would be "
            "encrypted under a key derived from SECRET_KEY. Set one or more Fernet keys, newest first "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        )
    elif not all(_is_fernet_key(key) for key in s["FIELD_ENCRYPTION_KEYS"]):
        problems.append("FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes).")
    problems += _c2pa_problems(s)
    if not s["ADMIN_REQUIRE_OTP"]:
        problems.append("ADMIN_REQUIRE_OTP is off: staff would sign in to the admin with a password alone.")
    return problems


def _c2pa_problems(s: Mapping[str, Any]) -> list[str]:
    from pathlib import Path

    from provenance.credentials.certificates import check_signing_material, is_development_chain

    anchors = s.get("PROVENANCE_C2PA_TRUST_ANCHORS") or ""
    if anchors and not Path(anchors).is_file():
        return ["PROVENANCE_C2PA_TRUST_ANCHORS names a file that does not exist."]
    if not s.get("PROVENANCE_C2PA_SIGNING"):
        return []

    chain, key = s.get("PROVENANCE_C2PA_CERT_CHAIN") or "", s.get("PROVENANCE_C2PA_PRIVATE_KEY") or ""
    if not chain or not key:
        return [
            "PROVENANCE_C2PA_SIGNING is on without PROVENANCE_C2PA_CERT_CHAIN and PROVENANCE_C2PA_PRIVATE_KEY: "
            "Content Credentials would be signed by the development CA. Set both (PEM files), or "
            "PROVENANCE_C2PA_SIGNING=0."
        ]
    if not Path(chain).is_file() or not Path(key).is_file():
        return ["PROVENANCE_C2PA_CERT_CHAIN or PROVENANCE_C2PA_PRIVATE_KEY names a file that does not exist."]
    chain_pem, key_pem = Path(chain).read_bytes(), Path(key).read_bytes()
    problems = [
        f"PROVENANCE_C2PA_CERT_CHAIN / PROVENANCE_C2PA_PRIVATE_KEY: {problem}."
        for problem in check_signing_material(chain_pem=chain_pem, key_pem=key_pem)
    ]
    if not problems and is_development_chain(chain_pem):
        problems.append(
            "PROVENANCE_C2PA_CERT_CHAIN is Atelier's development certificate; set this "
            "deployment's own signing certificate."
        )
    return problems


def refuse_unsafe_defaults(s: Mapping[str, Any]) -> None:
    problems = unsafe_defaults(s)
    if problems:
        raise ImproperlyConfigured("ATELIER_ENV=production refuses unsafe settings:\n  - " + "\n  - ".join(problems))
