"""The problem+json `code`s the outbound webhooks app raises."""

from enum import StrEnum, unique


@unique
class WebhookError(StrEnum):
    UNSAFE_URL = "unsafe_url"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint_disabled"
    WEBHOOK_ENDPOINT_LIMIT = "webhook_endpoint_limit"
