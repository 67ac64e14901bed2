"""The problem+json `code`s the commissions app raises (briefs, offers, deliveries)."""

from enum import StrEnum, unique


@unique
class CommissionError(StrEnum):
    DEADLINE_PASSED = "deadline_passed"
    DELIVERY_IN_PROGRESS = "delivery_in_progress"
    NOT_ALLOWED_FOR_ROLE = "not_allowed_for_role"
    OFFER_EXISTS = "offer_exists"
    REVISION_LIMIT_REACHED = "revision_limit_reached"
