"""The problem+json `code`s the accounts app raises (sign-up, login, credentials)."""

from enum import StrEnum, unique


@unique
class AccountError(StrEnum):
    ACCOUNT_LOCKED = "account_locked"
    EMAIL_UNCONFIRMED = "email_unconfirmed"
    INVALID_CONFIRMATION = "invalid_confirmation"
    INVALID_CREDENTIALS = "invalid_credentials"
    LOGIN_TOKEN_REQUIRED = "login_token_required"
