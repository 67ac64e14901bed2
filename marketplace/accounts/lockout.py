"""Brute-force protection for every password check (API login and the admin's login form).

Two counters per attempt, each reserved *before* the password is checked in one conditional UPDATE, so
parallel guesses cannot slip under a limit:
- per (email, client address): LOGIN_MAX_FAILURES — a guesser is stopped without locking the owner, who signs
  in from another address;
- per email: LOGIN_MAX_FAILURES_PER_ACCOUNT — the ceiling on a distributed spray against one account.
Counters exist for unknown emails as well, so a lock (429) says nothing about whether an account exists. A
counter's window is LOGIN_LOCKOUT: failures older than that are forgotten, a lock lasts that long.
"""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.errors import AtelierError
from marketplace.accounts.errors import AccountError
from marketplace.accounts.models import LoginLockout


class AccountLocked(AtelierError):
    status, code, title = 429, AccountError.ACCOUNT_LOCKED, "Too many failed logins"


@dataclass(frozen=True)
class Attempt:
    pair_key: str
    account_key: str


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _limit_per_account() -> int:
    return settings.LOGIN_MAX_FAILURES_PER_ACCOUNT


def _reserve(key: str, limit: int) -> bool:
    now = timezone.now()
    window_start = now - settings.LOGIN_LOCKOUT
    try:
        with transaction.atomic():
            LoginLockout.objects.get_or_create(key=key)
    except IntegrityError:  # created by a parallel attempt
        pass
    LoginLockout.objects.filter(
        Q(locked_until__lte=now) | Q(locked_until__isnull=True, window_started_at__lte=window_start), key=key
    ).update(failures=0, locked_until=None, window_started_at=now)
    return (
        LoginLockout.objects.filter(key=key, locked_until__isnull=True, failures__lt=limit).update(
            failures=F("failures") + 1
        )
        == 1
    )


def _locked_error(keys: list[str]) -> AccountLocked:
    until = max(
        (u for u in LoginLockout.objects.filter(key__in=keys).values_list("locked_until", flat=True) if u), default=None
    )
    wait = int((until - timezone.now()).total_seconds()) + 1 if until else 60
    return AccountLocked("Too many failed logins; try again later.", retry_after_seconds=max(wait, 1))


def login_attempt_reserve(*, email: str, client_address: str) -> Attempt:
    """Count one password check for this email from this address, or raise AccountLocked (429)."""
    email = email.strip().lower()
    attempt = Attempt(pair_key=_digest("pair", email, client_address), account_key=_digest("account", email))
    if not _reserve(attempt.pair_key, settings.LOGIN_MAX_FAILURES):
        raise _locked_error([attempt.pair_key])
    if not _reserve(attempt.account_key, _limit_per_account()):
        raise _locked_error([attempt.account_key])
    return attempt


def login_attempt_failed(*, attempt: Attempt) -> None:
    until = timezone.now() + settings.LOGIN_LOCKOUT
    for key, limit in ((attempt.pair_key, settings.LOGIN_MAX_FAILURES), (attempt.account_key, _limit_per_account())):
        LoginLockout.objects.filter(key=key, locked_until__isnull=True, failures__gte=limit).update(locked_until=until)


def login_attempt_succeeded(*, attempt: Attempt) -> None:
    """The owner got in from this address: its counter restarts. The per-account one keeps its window (a
    spray in progress from elsewhere is not forgiven by one good login), minus this attempt."""
    LoginLockout.objects.filter(key=attempt.pair_key).delete()
    LoginLockout.objects.filter(key=attempt.account_key, failures__gt=0).update(failures=F("failures") - 1)


def login_lockouts_clear(*, email: str) -> int:
    """Staff unlock: forget the per-account counter (per-address ones cannot be found by email alone, by
    design; they expire with their window)."""
    deleted, _ = LoginLockout.objects.filter(key=_digest("account", email.strip().lower())).delete()
    return deleted


def login_lockouts_prune() -> int:
    """Forget counters whose window and lock are both over (sprays of unknown emails would otherwise pile up)."""
    now = timezone.now()
    deleted, _ = LoginLockout.objects.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now), window_started_at__lte=now - settings.LOGIN_LOCKOUT
    ).delete()
    return deleted
