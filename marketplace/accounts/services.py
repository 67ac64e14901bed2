"""Account write services: registration, login with lockout, tokens, profile, password, API keys."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput, NotAuthenticated
from marketplace.accounts import locks
from marketplace.accounts.avatars import avatar_render
from marketplace.accounts.bearer import API_KEY_KIND, TOKEN_KIND, new_secret
from marketplace.accounts.errors import AccountError
from marketplace.accounts.lockout import (
    AccountLocked,  # noqa: F401  (re-exported)
    login_attempt_failed,
    login_attempt_reserve,
    login_attempt_succeeded,
)
from marketplace.accounts.models import ApiKey, AuthToken, Role, User
from marketplace.accounts.scopes import SCOPES
from marketplace.accounts.signup import registration_confirm, registration_start

SELF_SERVICE_ROLES = (Role.ARTIST, Role.BUYER)
MAX_ACTIVE_API_KEYS = 50


@dataclass(frozen=True)
class IssuedToken:
    token: AuthToken
    secret: str


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="password") from None


def user_register(*, email: str, password: str, base_url: str, display_name: str = "", role: str = Role.BUYER) -> None:
    """Start a sign-up: the same outcome (None, one email sent) for a new and a taken address (signup.py).
    Only the rules on what was typed (role, password) refuse, and they do not depend on the address."""
    if role not in SELF_SERVICE_ROLES:
        raise InvalidInput("Role must be artist or buyer.", field="role")
    email = User.objects.normalize_email(email).lower()
    candidate = User(email=email, display_name=display_name, role=role)
    _validate_password(password, candidate)
    registration_start(candidate=candidate, password=password, base_url=base_url)


def user_confirm_email(*, uid: str, token: str) -> User:
    return registration_confirm(uid=uid, token=token)


def token_issue(*, user: User, user_agent: str = "") -> IssuedToken:
    secret = new_secret(TOKEN_KIND)
    token = AuthToken.objects.create(
        user=user,
        digest=secret.digest,
        prefix=secret.prefix,
        user_agent=user_agent[:200],
        expires_at=timezone.now() + settings.AUTH_TOKEN_TTL,
    )
    return IssuedToken(token=token, secret=secret.value)


def auth_check_password(*, email: str, password: str, client_address: str) -> User | None:
    """The one password check (API login and admin login): counted against the lockout before it runs, and
    answered the same for an unknown email, an inactive account and a wrong password (None)."""
    attempt = login_attempt_reserve(email=email, client_address=client_address)
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        User().set_password(password)  # spend the same time as a real check: no user enumeration by timing
        ok = False
    else:
        ok = user.check_password(password) and user.is_active
    if not ok:
        login_attempt_failed(attempt=attempt)
        return None
    login_attempt_succeeded(attempt=attempt)
    return user


def auth_login(*, email: str, password: str, client_address: str, user_agent: str = "") -> IssuedToken:
    """API sign-in: the credentials checked under the lockout, then a fresh token."""
    user = auth_check_credentials(email=email, password=password, client_address=client_address)
    return token_issue(user=user, user_agent=user_agent)


def auth_check_credentials(*, email: str, password: str, client_address: str) -> User:
    """The user these credentials belong to, under the same lockout as the API login (pages start a session
    for them); NotAuthenticated, the same for every kind of failure, otherwise."""
    user = auth_check_password(email=email, password=password, client_address=client_address)
    if user is None:
        raise NotAuthenticated("Invalid email or password.", code=AccountError.INVALID_CREDENTIALS)
    if user.email_confirmed_at is None:  # only someone who knows the password learns this
        raise NotAuthenticated(
            "Confirm your email address first: follow the link we sent you when you signed up.",
            code=AccountError.EMAIL_UNCONFIRMED,
        )
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user


def auth_logout(*, token: AuthToken) -> None:
    AuthToken.objects.filter(pk=token.pk).delete()


def user_update_profile(*, user: User, **fields: Any) -> User:
    allowed = {"display_name", "bio", "open_to_commissions"}
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidInput(f"Cannot change {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=[*fields, "updated_at"])
    return user


def user_set_avatar(*, user: User, raw: bytes, filename: str) -> User:
    """Replace the user's profile picture with `raw` (validated, cropped square, re-encoded). The old file is
    deleted once the change has committed; a failed change leaves the old picture and no new file."""
    png = avatar_render(raw=raw, name=filename or "avatar")
    name = default_storage.save(
        f"avatars/{user.public_id.hex}-{hashlib.sha256(png).hexdigest()[:16]}.png", ContentFile(png)
    )
    try:
        _avatar_replace(user=user, name=name)
    except BaseException:
        default_storage.delete(name)
        raise
    return user


def user_remove_avatar(*, user: User) -> User:
    _avatar_replace(user=user, name="")
    return user


@transaction.atomic
def _avatar_replace(*, user: User, name: str) -> None:
    locked = locks.lock_user(user.pk)
    old = locked.avatar.name
    User.objects.filter(pk=user.pk).update(avatar=name, updated_at=timezone.now())
    user.avatar = name
    if old and old != name:
        transaction.on_commit(lambda: default_storage.delete(old))


@transaction.atomic
def user_change_password(
    *, user: User, current_password: str, new_password: str, revoke_api_keys: bool = False, user_agent: str = ""
) -> IssuedToken:
    """Every token and session dies with the old password; the caller gets one fresh token. API keys live on
    unless `revoke_api_keys` (GitHub keeps tokens on a password change too, and offers to revoke them)."""
    if not user.check_password(current_password):
        raise InvalidInput("Current password is wrong.", field="current_password")
    user_set_password(user=user, new_password=new_password, revoke_api_keys=revoke_api_keys)
    return token_issue(user=user, user_agent=user_agent)


@transaction.atomic
def user_set_password(*, user: User, new_password: str, revoke_api_keys: bool = False) -> User:
    """A new password (validated): every login token dies with the old one, and so does every session, whose
    hash is of the password (the page that changed it keeps its own with update_session_auth_hash). A reset
    revokes the API keys too (whoever forced the reset may have minted some)."""
    _validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    AuthToken.objects.filter(user=user).delete()
    if revoke_api_keys:
        ApiKey.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return user


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    secret: str


def api_key_create(*, user: User, name: str, scopes: list[str], expires_at: datetime | None = None) -> IssuedApiKey:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InvalidInput(f"Unknown scopes: {', '.join(unknown)}.", field="scopes")
    if not scopes:
        raise InvalidInput("Give the key at least one scope.", field="scopes")
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput("Expiry must be in the future.", field="expires_at")
    if ApiKey.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_API_KEYS:
        raise InvalidInput(f"At most {MAX_ACTIVE_API_KEYS} active keys; revoke one first.", field="name")
    secret = new_secret(API_KEY_KIND)
    key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=secret.prefix,
        digest=secret.digest,
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    return IssuedApiKey(api_key=key, secret=secret.value)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db()
    return api_key
