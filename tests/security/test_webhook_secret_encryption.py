"""Finding 11: webhook signing secrets are encrypted at rest (Fernet under MultiFernet, keys from settings,
rotatable), existing ones are encrypted by a data migration, and production needs an explicit key."""

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.core.management import call_command
from django.db import connection

from core import crypto
from marketplace.webhooks.models import WebhookEndpoint
from marketplace.webhooks.services import webhook_endpoint_create, webhook_endpoint_rotate_secret

pytestmark = pytest.mark.django_db


def _raw(endpoint_pk: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret, previous_secret FROM webhooks_webhookendpoint WHERE id = %s", [endpoint_pk])
        return cursor.fetchone()


@pytest.fixture
def endpoint(make_user, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    return webhook_endpoint_create(owner=make_user(role="artist"), url="http://127.0.0.1:9/hook")


def test_the_stored_secret_is_a_fernet_token_not_the_secret(endpoint):
    secret = endpoint.secret
    assert secret.startswith("whsec_")
    stored, _ = _raw(endpoint.pk)
    assert secret not in stored and not stored.startswith("whsec_")
    assert crypto.fernet().decrypt(stored.encode()).decode() == secret
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == secret  # code sees the plain value

    rotated = webhook_endpoint_rotate_secret(endpoint=endpoint)
    new_raw, previous_raw = _raw(endpoint.pk)
    assert rotated.secret not in new_raw and secret not in previous_raw
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).signing_secrets() == [rotated.secret, secret]


def test_keys_rotate_without_losing_a_secret(endpoint, settings):
    secret, old_key = endpoint.secret, settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]  # new first: it encrypts, both decrypt
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == secret
    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key dropped
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == secret
    assert MultiFernet([Fernet(new_key)]).decrypt(_raw(endpoint.pk)[0].encode()).decode() == secret


def test_a_missing_key_fails_loudly_rather_than_reading_garbage(endpoint, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(Exception, match="FIELD_ENCRYPTION_KEYS"):
        WebhookEndpoint.objects.get(pk=endpoint.pk)


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_encrypts_secrets_stored_in_clear(make_user):
    call_command("migrate", "webhooks", "0001", verbosity=0)
    owner = make_user(role="artist")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO webhooks_webhookendpoint (public_id, created_at, updated_at, owner_id, url, description, "
            "events, secret, previous_secret, is_active, disabled_reason, disabled_detail, consecutive_failures) "
            "VALUES (%s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, %s, 'https://example.com/h', '', '[\"*\"]', "
            "'whsec_plain', '', %s, '', '', 0)",
            ["0" * 32, owner.pk, True],
        )
    call_command("migrate", "webhooks", verbosity=0)
    endpoint = WebhookEndpoint.objects.get()
    stored, previous = _raw(endpoint.pk)
    assert stored != "whsec_plain" and "whsec_plain" not in stored and previous == ""
    assert endpoint.secret == "whsec_plain"
