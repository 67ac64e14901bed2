"""The embedded test provider (`PAYMENT_PROVIDER=test`, the default): no network, deterministic outcomes.

Payment-method tokens:

| token                       | outcome                                                                  |
|-----------------------------|--------------------------------------------------------------------------|
| `tok_visa`, `tok_mastercard`, `tok_amex`, `tok_success` | succeeds                                      |
| `tok_card_declined`         | declined: `card_declined` — "Your card was declined."                    |
| `tok_insufficient_funds`    | declined: `insufficient_funds` — "Your card has insufficient funds."     |
| `tok_expired_card`          | declined: `expired_card` — "Your card has expired."                      |
| `tok_processing_error`      | declined: `processing_error` — "An error occurred while processing…"     |
| `tok_off_session_declined`  | succeeds while the payer is present; declined (`card_declined`) off-session |
|                             | (renewals)                                                               |
| `tok_requires_action`       | `requires_action` with a client secret; finish it with                   |
|                             | `services.payment_complete_test_action(payment=…, succeed=True/False)`   |
| `tok_refund_fails`          | the charge succeeds; refunding it fails                                  |
| `tok_provider_down`         | the provider is unreachable (`ProviderUnavailable` → 503)                |
| anything else               | declined: `invalid_payment_method`                                       |
"""

import uuid

from marketplace.subscriptions.payment_providers import ChargeRequest, ChargeResult, ProviderUnavailable, RefundResult

SUCCEEDING = {"tok_visa", "tok_mastercard", "tok_amex", "tok_success", "tok_off_session_declined", "tok_refund_fails"}
DECLINES = {
    "tok_card_declined": ("card_declined", "Your card was declined."),
    "tok_insufficient_funds": ("insufficient_funds", "Your card has insufficient funds."),
    "tok_expired_card": ("expired_card", "Your card has expired."),
    "tok_processing_error": ("processing_error", "An error occurred while processing your card. Try again."),
}
_NO_REFUND_MARK = "norefund_"


class TestProvider:
    __test__ = False  # not a pytest class
    name = "test"

    def charge(self, request: ChargeRequest) -> ChargeResult:
        token = request.payment_method
        reference = f"testpay_{_NO_REFUND_MARK if token == 'tok_refund_fails' else ''}{uuid.uuid4().hex}"
        customer = request.customer or (f"testcus_{uuid.uuid4().hex[:16]}" if request.save_for_future else "")
        if token == "tok_provider_down":
            raise ProviderUnavailable("The test provider is 'down' for tok_provider_down.")
        if token == "tok_off_session_declined" and request.off_session:
            code, reason = "card_declined", "Your card was declined."
            return ChargeResult(
                status="failed",
                provider_reference=reference,
                failure_code=code,
                failure_reason=reason,
                customer_reference=customer,
            )
        if token in SUCCEEDING:
            return ChargeResult(status="succeeded", provider_reference=reference, customer_reference=customer)
        if token == "tok_requires_action":
            if request.off_session:
                return ChargeResult(
                    status="failed",
                    provider_reference=reference,
                    failure_code="authentication_required",
                    failure_reason="This payment needs the cardholder to authenticate.",
                )
            return ChargeResult(
                status="requires_action",
                provider_reference=reference,
                client_secret=f"{reference}_secret_{uuid.uuid4().hex[:12]}",
                customer_reference=customer,
            )
        code, reason = DECLINES.get(token, ("invalid_payment_method", "Unknown payment method."))
        return ChargeResult(status="failed", provider_reference=reference, failure_code=code, failure_reason=reason)

    def payout(self, *, amount: int, currency: str, idempotency_key: str) -> str:
        """Payouts settle at once in test mode; the reference names the transfer."""
        return f"testpo_{uuid.uuid4().hex}"

    def refund(self, *, provider_reference: str, amount: int, idempotency_key: str) -> RefundResult:
        if provider_reference.startswith(f"testpay_{_NO_REFUND_MARK}"):
            return RefundResult(status="failed", failure_reason="The test provider refuses refunds for this card.")
        return RefundResult(status="succeeded", provider_reference=f"testre_{uuid.uuid4().hex}")
