"""Secrets at rest: a model field encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under MultiFernet.

`FIELD_ENCRYPTION_KEYS` is a list of Fernet keys, newest first: the first encrypts, any of them decrypts, so a
key is rotated by putting a new one first and running `manage.py rotate_field_keys` (re-encrypts every value
under the new key) before the old one is dropped. Outside production the list defaults to a key derived from
SECRET_KEY; production refuses to start without an explicit one (config/production.py)."""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def derived_key(secret: str) -> str:
    """A Fernet key derived from a secret string (the development default)."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"atelier-field-encryption:" + secret.encode()).digest()).decode()


@lru_cache(maxsize=4)
def _multi(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key: {exc}") from None


def fernet() -> MultiFernet:
    return _multi(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_str(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt_str(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "An encrypted field cannot be read with FIELD_ENCRYPTION_KEYS (a key was "
            "dropped before `manage.py rotate_field_keys` ran?)."
        ) from None


def rotate_str(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A string stored as a Fernet token; Python code sees the plain value. "" stays "" (nothing to hide).
    Not searchable or orderable by value, by design."""

    def from_db_value(self, value, expression, connection):
        return decrypt_str(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt_str(value) if value else value
