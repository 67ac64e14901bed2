"""The production profile refuses to start half-configured, and passes Django's deploy checks when configured."""

import subprocess
import sys

from tests.helpers import REPO

REAL_KEY = "k3Jd9#pQ2!vX7&mN4@wE8^rT1*yU6(iO0)aS5-dF3+gH9=jK2_lZ7~xC4"
FERNET_KEY = "hW4bbtqvTv3yJgoQe1qgrXxX6r2k3m0bYjV7e9lBq2A="  # a fixed test key (any 32 url-safe base64 bytes)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", "HOME": "/tmp"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=base | env, capture_output=True, text=True, timeout=120
    )


def test_production_without_secret_key_refuses_to_start():
    result = manage("check", ATELIER_ENV="production", ALLOWED_HOSTS="atelier.example")
    assert result.returncode != 0
    assert "needs a real SECRET_KEY" in result.stderr


def test_production_with_the_development_key_refuses_to_start():
    result = manage(
        "check",
        ATELIER_ENV="production",
        ALLOWED_HOSTS="atelier.example",
        SECRET_KEY="django-insecure-atelier-development-key-never-use-in-production",
    )
    assert result.returncode != 0
    assert "needs a real SECRET_KEY" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    result = manage("check", ATELIER_ENV="production", SECRET_KEY=REAL_KEY)
    assert result.returncode != 0
    assert "needs ALLOWED_HOSTS" in result.stderr


def test_configured_production_passes_deploy_checks_at_warning_level():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        ATELIER_ENV="production",
        SECRET_KEY=REAL_KEY,
        ALLOWED_HOSTS="atelier.example",
        PAYMENT_PROVIDER="stripe",
        STRIPE_SECRET_KEY="sk_live_example",
        STRIPE_WEBHOOK_SECRET="whsec_example",
        CHAIN_ID="11155111",
        CHAIN_PRIVATE_KEY="0x" + "59" * 32,
        FIELD_ENCRYPTION_KEYS=FERNET_KEY,
        PROVENANCE_C2PA_SIGNING="0",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_development_defaults_run_with_nothing_set():
    result = manage("check")
    assert result.returncode == 0, result.stderr


# --- C2PA signing in production: on by default, and only with this deployment's own certificate ------------

PRODUCTION = {
    "ATELIER_ENV": "production",
    "SECRET_KEY": REAL_KEY,
    "ALLOWED_HOSTS": "atelier.example",
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    "CHAIN_ID": "11155111",
    "CHAIN_PRIVATE_KEY": "0x" + "59" * 32,
    "FIELD_ENCRYPTION_KEYS": FERNET_KEY,
}


def _write(tmp_path, material) -> dict[str, str]:
    (tmp_path / "chain.pem").write_bytes(material.chain_pem)
    (tmp_path / "key.pem").write_bytes(material.key_pem)
    return {
        "PROVENANCE_C2PA_CERT_CHAIN": str(tmp_path / "chain.pem"),
        "PROVENANCE_C2PA_PRIVATE_KEY": str(tmp_path / "key.pem"),
    }


def test_production_refuses_c2pa_signing_without_a_certificate():
    result = manage("check", **PRODUCTION)
    assert result.returncode != 0
    assert "PROVENANCE_C2PA_SIGNING is on without PROVENANCE_C2PA_CERT_CHAIN" in result.stderr


def test_production_refuses_the_development_certificate(tmp_path):
    from provenance.credentials.certificates import development_material

    result = manage("check", **PRODUCTION, **_write(tmp_path, development_material(tmp_path / "dev")))
    assert result.returncode != 0
    assert "is Atelier's development certificate" in result.stderr


def test_production_refuses_a_key_that_is_not_the_certificates(tmp_path):
    from provenance.credentials.certificates import issue_signing_material

    ours = issue_signing_material(root_cn="Operator root", signer_cn="Operator", organization="Operator Ltd")
    other = issue_signing_material(root_cn="Other root", signer_cn="Other", organization="Other Ltd")
    paths = _write(tmp_path, ours)
    (tmp_path / "key.pem").write_bytes(other.key_pem)
    result = manage("check", **PRODUCTION, **paths)
    assert result.returncode != 0
    assert "the private key does not belong to the first certificate" in result.stderr


def test_production_starts_with_an_operator_certificate(tmp_path):
    from provenance.credentials.certificates import issue_signing_material

    material = issue_signing_material(root_cn="Operator root", signer_cn="Operator", organization="Operator Ltd")
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, **_write(tmp_path, material))
    assert result.returncode == 0, result.stdout + result.stderr
