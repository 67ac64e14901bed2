"""`Authorization: Bearer <secret>` for login tokens (atk_…) and API keys (atl_…)."""

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from marketplace.accounts.bearer import API_KEY_KIND, TOKEN_KIND, digest_of
from marketplace.accounts.models import ApiKey, AuthToken

# Writing last_used_at on every request would turn every read into a write; a minute's precision is enough.
LAST_USED_PRECISION = timedelta(minutes=1)


class BearerAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <token>'.")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        kind = secret.split("_", 1)[0]
        if kind == TOKEN_KIND:
            return self._token(secret)
        if kind == API_KEY_KIND:
            return self._api_key(secret)
        raise exceptions.AuthenticationFailed("Invalid token.")

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'

    def _token(self, secret: str) -> tuple[Any, AuthToken]:
        now = timezone.now()
        token = AuthToken.objects.select_related("user").filter(digest=digest_of(secret)).first()
        if token is None or token.expires_at <= now or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
            AuthToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def _api_key(self, secret: str) -> tuple[Any, ApiKey]:
        now = timezone.now()
        key = ApiKey.objects.select_related("user").filter(digest=digest_of(secret)).first()
        if key is None or not key.is_active or not key.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API key.")
        if key.last_used_at is None or key.last_used_at < now - LAST_USED_PRECISION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return key.user, key
