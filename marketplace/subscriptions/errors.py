"""The problem+json `code`s the subscriptions app raises (plans, usage, payments, payouts, Stripe events)."""

from enum import StrEnum, unique


@unique
class SubscriptionError(StrEnum):
    LEDGER_REFERENCE_REUSED = "ledger_reference_reused"
    NOT_CANCELLING = "not_cancelling"
    NOTHING_TO_CANCEL = "nothing_to_cancel"
    NOTHING_TO_PAY_OUT = "nothing_to_pay_out"
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_IN_PROGRESS = "payment_in_progress"
    PAYMENT_PROVIDER_MISCONFIGURED = "payment_provider_misconfigured"
    PAYMENT_REFERENCE_REUSED = "payment_reference_reused"
    PAYOUT_PENDING = "payout_pending"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    REFUND_FAILED = "refund_failed"
    SUBSCRIPTION_BUSY = "subscription_busy"
    SUBSCRIPTION_PAST_DUE = "subscription_past_due"
    UNKNOWN_PLAN = "unknown_plan"
    USAGE_REFERENCE_REUSED = "usage_reference_reused"
    WEBHOOK_NOT_CONFIGURED = "webhook_not_configured"
    WEBHOOK_PAYLOAD_INVALID = "webhook_payload_invalid"
    WEBHOOK_SIGNATURE_INVALID = "webhook_signature_invalid"
    WEBHOOK_TIMESTAMP_OUTSIDE_TOLERANCE = "webhook_timestamp_outside_tolerance"
