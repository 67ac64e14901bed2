"""Finding 2: production refuses to start with any default that is only safe on a laptop."""

import pytest

from config.production import ANVIL_DEV_PRIVATE_KEY
from provenance.chain import signer
from tests.config.test_settings_profiles import FERNET_KEY, REAL_KEY, manage

# A complete, safe production environment; each test removes or spoils one part of it.
SAFE = {
    "ATELIER_ENV": "production",
    "SECRET_KEY": REAL_KEY,
    "ALLOWED_HOSTS": "atelier.example",
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    "CHAIN_ID": "11155111",
    "CHAIN_PRIVATE_KEY": "0x" + "59" * 32,
    "FIELD_ENCRYPTION_KEYS": FERNET_KEY,
    "PROVENANCE_C2PA_SIGNING": "0",  # tests/config/test_settings_profiles.py covers production signing
}


def test_the_safe_environment_passes_deploy_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **SAFE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"PAYMENT_PROVIDER": None}, "PAYMENT_PROVIDER='test'"),
        ({"PAYMENT_PROVIDER": "test"}, "PAYMENT_PROVIDER='test'"),
        ({"STRIPE_API_BASE": "http://127.0.0.1:9999"}, "STRIPE_API_BASE"),
        ({"CHAIN_PRIVATE_KEY": None}, "CHAIN_PRIVATE_KEY is unset or anvil"),
        ({"CHAIN_PRIVATE_KEY": ANVIL_DEV_PRIVATE_KEY}, "CHAIN_PRIVATE_KEY is unset or anvil"),
        ({"CHAIN_PRIVATE_KEY": ANVIL_DEV_PRIVATE_KEY, "CHAIN_ID": "31337"}, "CHAIN_PRIVATE_KEY is unset or anvil"),
        ({"WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1"}, "WEBHOOK_ALLOW_PRIVATE_NETWORKS"),
        ({"ATELIER_DEBUG": "1"}, "ATELIER_DEBUG must be off"),
        ({"TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT"),
        ({"ADMIN_REQUIRE_OTP": "0"}, "ADMIN_REQUIRE_OTP is off"),
        ({"FIELD_ENCRYPTION_KEYS": None}, "FIELD_ENCRYPTION_KEYS is unset"),
        ({"FIELD_ENCRYPTION_KEYS": "not-a-key"}, "not a Fernet key"),
        ({"PROVENANCE_C2PA_SIGNING": None}, "PROVENANCE_C2PA_SIGNING is on without"),
        (
            {
                "PROVENANCE_C2PA_SIGNING": "1",
                "PROVENANCE_C2PA_CERT_CHAIN": "/nonexistent/chain.pem",
                "PROVENANCE_C2PA_PRIVATE_KEY": "/nonexistent/key.pem",
            },
            "names a file that does not exist",
        ),
        ({"PROVENANCE_C2PA_TRUST_ANCHORS": "/nonexistent/roots.pem"}, "PROVENANCE_C2PA_TRUST_ANCHORS names a file"),
    ],
)
def test_production_refuses_each_unsafe_default(change, says):
    env = {k: v for k, v in (SAFE | change).items() if v is not None}
    result = manage("check", **env)
    assert result.returncode != 0
    assert says in result.stderr, result.stderr[-2000:]


def test_the_refused_key_is_the_one_anvil_ships():
    assert ANVIL_DEV_PRIVATE_KEY == signer.ANVIL_DEV_PRIVATE_KEY
