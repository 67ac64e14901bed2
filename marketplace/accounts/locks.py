"""The accounts app's row locks, all here (house rule 5). Call inside `transaction.atomic()`."""

from marketplace.accounts.models import User


def lock_user(pk: int) -> User:
    return User.objects.select_for_update().get(pk=pk)


def lock_user_by_email(email: str) -> User | None:
    """The account with this (normalised) email, locked; None if there is none."""
    return User.objects.select_for_update().filter(email=email).first()
