"""Bearer secrets: `atk_` login tokens and `atl_` API keys. Only their sha256 digest is stored.

These are 256-bit random values, so a fast hash is the right tool (a slow KDF protects low-entropy passwords,
not random keys) and lookups by digest stay one indexed query.
"""

import hashlib
import secrets
from dataclasses import dataclass

TOKEN_KIND = "atk"
API_KEY_KIND = "atl"
PREFIX_LENGTH = 12  # "atl_" + 8 characters, shown in lists to identify a key


@dataclass(frozen=True)
class NewSecret:
    value: str
    prefix: str
    digest: str


def digest_of(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret(kind: str) -> NewSecret:
    value = f"{kind}_{secrets.token_urlsafe(32)}"
    return NewSecret(value=value, prefix=value[:PREFIX_LENGTH], digest=digest_of(value))
