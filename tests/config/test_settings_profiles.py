"""The production profile refuses to start half-configured, and passes Django's deploy checks when configured."""

import subprocess
import sys

from tests.conftest import REPO

REAL_KEY = "k3Jd9#pQ2!vX7&mN4@wE8^rT1*yU6(iO0)aS5-dF3+gH9=jK2_lZ7~xC4"
FERNET_KEY = "hW4bbtqvTv3yJgoQe1qgrXxX6r2k3m0bYjV7e9lBq2A="  # a fixed test key (any 32 url-safe base64 bytes)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", "HOME": "/tmp"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=base | env,
                          capture_output=True, text=True, timeout=120)


def test_production_without_secret_key_refuses_to_start():
    result = manage("check", ATELIER_ENV="production", ALLOWED_HOSTS="atelier.example")
    assert result.returncode != 0
    assert "needs a real SECRET_KEY" in result.stderr


def test_production_with_the_development_key_refuses_to_start():
    result = manage("check", ATELIER_ENV="production", ALLOWED_HOSTS="atelier.example",
                    SECRET_KEY="django-insecure-atelier-development-key-never-use-in-production")
    assert result.returncode != 0
    assert "needs a real SECRET_KEY" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    result = manage("check", ATELIER_ENV="production", SECRET_KEY=REAL_KEY)
    assert result.returncode != 0
    assert "needs ALLOWED_HOSTS" in result.stderr


def test_configured_production_passes_deploy_checks_at_warning_level():
    result = manage("check", "--deploy", "--fail-level", "WARNING", ATELIER_ENV="production",
                    SECRET_KEY=REAL_KEY, ALLOWED_HOSTS="atelier.example", PAYMENT_PROVIDER="stripe",
                    STRIPE_SECRET_KEY="sk_live_example", STRIPE_WEBHOOK_SECRET="whsec_example",
                    CHAIN_ID="11155111", CHAIN_PRIVATE_KEY="0x" + "59" * 32, FIELD_ENCRYPTION_KEYS=FERNET_KEY)
    assert result.returncode == 0, result.stdout + result.stderr


def test_development_defaults_run_with_nothing_set():
    result = manage("check")
    assert result.returncode == 0, result.stderr
