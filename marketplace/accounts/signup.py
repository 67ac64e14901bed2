"""Sign-up that does not tell who has an account (issue 12, finding 9).

Registering answers the same whether the address is new or taken: "we sent you a message". A new address gets
an unconfirmed account and a confirmation link (signing in waits for it); a taken one gets a "you already have
an account" message with the sign-in and password-reset links instead, so only the owner of the mailbox learns
anything. Registering an address again before it was confirmed replaces the password and sends a fresh link
(nobody has shown they own it yet); earlier links stop working, because the token is bound to the password."""

import logging
from uuid import UUID

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import InvalidInput
from marketplace.accounts import locks
from marketplace.accounts.errors import AccountError
from marketplace.accounts.models import User

logger = logging.getLogger("atelier.accounts")
CONFIRM_PATH = "/signup/confirm/{uid}/{token}"


class ConfirmationTokens(PasswordResetTokenGenerator):
    key_salt = "marketplace.accounts.signup.ConfirmationTokens"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        return f"{user.pk}{user.password}{user.email_confirmed_at}{timestamp}"


confirmation_tokens = ConfirmationTokens()


def _confirm_link(user: User, base_url: str) -> str:
    token = confirmation_tokens.make_token(user)
    return base_url.rstrip("/") + CONFIRM_PATH.format(uid=user.public_id.hex, token=token)


def _send_confirmation(user: User, base_url: str) -> None:
    send_mail(
        "Confirm your Atelier account",
        f"Follow this link to finish signing up:\n\n{_confirm_link(user, base_url)}\n\n"
        "If you did not sign up for Atelier, ignore this message: no account is made without it.",
        None,
        [user.email],
    )


def _send_already_registered(user: User, base_url: str) -> None:
    base = base_url.rstrip("/")
    send_mail(
        "You already have an Atelier account",
        "Someone (hopefully you) tried to sign up for Atelier with this address, which already has an "
        f"account.\n\nSign in: {base}/login\nForgot your password? {base}/password-reset\n\n"
        "If it was not you, nothing has changed and you can ignore this message.",
        None,
        [user.email],
    )


def registration_start(*, candidate: User, password: str, base_url: str) -> None:
    """`candidate`: an unsaved User (normalised email, role, display name) whose password passed the rules."""
    with transaction.atomic():
        existing = locks.lock_user_by_email(candidate.email)
        if existing is None:
            candidate.email_confirmed_at = None
            candidate.set_password(password)
            try:
                with transaction.atomic():
                    candidate.save()
                send = (_send_confirmation, candidate)
            except IntegrityError:  # registered concurrently: that one is the account
                existing = User.objects.get(email=candidate.email)
        if existing is not None and existing.email_confirmed_at is None and existing.last_login is None:
            existing.set_password(password)
            existing.display_name, existing.role = candidate.display_name, candidate.role
            existing.save(update_fields=["password", "display_name", "role", "updated_at"])
            send = (_send_confirmation, existing)
        elif existing is not None:
            User().set_password(password)  # the same hashing time as the other paths: no answer by timing
            send = (_send_already_registered, existing)
    send[0](send[1], base_url)


def registration_confirm(*, uid: str, token: str) -> User:
    """The account the link was sent for, now confirmed; 400 `invalid_confirmation` for a wrong, used or
    expired link (PASSWORD_RESET_TIMEOUT)."""
    try:
        user = User.objects.filter(public_id=UUID(hex=uid)).first()
    except (ValueError, TypeError):
        user = None
    if user is None or not confirmation_tokens.check_token(user, token) or not user.is_active:
        raise InvalidInput(
            "This confirmation link is not valid (used, expired or mistyped). Sign up again to get a new one.",
            field="token",
            code=AccountError.INVALID_CONFIRMATION,
        )
    if user.email_confirmed_at is None:
        with transaction.atomic():
            updated = User.objects.filter(pk=user.pk, email_confirmed_at=None).update(
                email_confirmed_at=timezone.now(), updated_at=timezone.now()
            )
        if updated:
            logger.info("account %s confirmed its email", user.public_id)
        user.refresh_from_db()
    return user
