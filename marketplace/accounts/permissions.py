"""Who may manage credentials: a person signed in (login token or session), never an API key.

A key with narrow scopes must not be able to mint, list or revoke keys (GitHub: fine-grained tokens cannot
manage tokens). Checked as a permission, so it runs before anything else in the view — idempotent replay too.
"""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from core.errors import Forbidden
from marketplace.accounts.errors import AccountError
from marketplace.accounts.models import AuthToken


class LoginTokenRequired(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if isinstance(request.auth, AuthToken) or request.auth is None:  # a login token, or a session
            return True
        raise Forbidden(
            "Manage credentials with a login token, not an API key.", code=AccountError.LOGIN_TOKEN_REQUIRED
        )
