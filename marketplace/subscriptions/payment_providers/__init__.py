"""The payment-provider interface. `PAYMENT_PROVIDER` picks the implementation for new charges ("test", the
embedded default, or "stripe"); refunds always go to the provider that took the payment.

Providers talk to the outside world only: they never touch the database and are called outside transactions.
A decline is a result (`status="failed"`), not an exception; `ProviderUnavailable` means the provider could
not be reached or refused to work (then the outcome is unknown to us and the charge is recorded as failed;
a late success reported by the provider's webhook is refunded automatically).
"""

from dataclasses import dataclass, field
from functools import cache
from typing import Literal, Protocol

from django.utils.module_loading import import_string

from marketplace.subscriptions import conf

PROVIDERS = {
    "test": "marketplace.subscriptions.payment_providers.testmode.TestProvider",
    "stripe": "marketplace.subscriptions.payment_providers.stripe_provider.StripeProvider",
}


class ProviderUnavailable(Exception):
    """The provider could not be reached or misconfigured; nothing is known about the outcome."""


@dataclass(frozen=True)
class ChargeResult:
    status: Literal["succeeded", "pending", "requires_action", "failed"]
    provider_reference: str = ""
    client_secret: str = ""
    failure_code: str = ""
    failure_reason: str = ""
    customer_reference: str = ""
    action_url: str = ""  # where to send the payer to finish an action (a bank's 3-D Secure page), if known


@dataclass(frozen=True)
class RefundResult:
    status: Literal["succeeded", "pending", "failed"]
    provider_reference: str = ""
    failure_reason: str = ""


@dataclass(frozen=True)
class ChargeRequest:
    amount: int
    currency: str
    payment_method: str
    idempotency_key: str
    description: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    customer: str = ""
    off_session: bool = False  # a renewal: the payer is not present to complete an action
    save_for_future: bool = False  # keep the method on file for off-session renewals
    return_url: str = ""  # where the payer's browser comes back after an action on the provider's pages


class PaymentProvider(Protocol):
    name: str

    def charge(self, request: ChargeRequest) -> ChargeResult: ...

    def refund(self, *, provider_reference: str, amount: int, idempotency_key: str) -> RefundResult: ...


@cache
def _provider_class(path: str) -> type:
    return import_string(path)


def get_provider(name: str | None = None) -> PaymentProvider:
    name = name or conf.get("PAYMENT_PROVIDER")
    if name not in PROVIDERS:
        raise ProviderUnavailable(f"Unknown PAYMENT_PROVIDER {name!r}; use one of {', '.join(PROVIDERS)}.")
    return _provider_class(PROVIDERS[name])()
