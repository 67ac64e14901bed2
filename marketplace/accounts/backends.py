"""Django's password authentication (admin login form, sessions) through the same lockout as the API login."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from core.client_ip import client_ip
from marketplace.accounts.lockout import AccountLocked


class LockoutModelBackend(ModelBackend):
    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        from marketplace.accounts.services import auth_check_password

        email = username or kwargs.get("email")
        if not email or password is None:
            return None
        address = client_ip(request) if request is not None else "no-request"
        try:
            user = auth_check_password(email=email, password=password, client_address=address)
        except AccountLocked:
            raise PermissionDenied("locked") from None  # authenticate() stops here; the form says "invalid"
        return user if user is not None and self.user_can_authenticate(user) else None
