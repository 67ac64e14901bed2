"""Stripe (`PAYMENT_PROVIDER=stripe`): PaymentIntents created and confirmed in one call.

`payment_method` is a PaymentMethod id from Stripe.js (`pm_…`; test mode also takes `pm_card_visa`). When 3-D
Secure is needed the intent comes back `requires_action` with a client secret for Stripe.js; a charge that
gives a `return_url` (the storefront's pages, which ship no Stripe.js) allows redirects instead, and the
intent's `next_action.redirect_to_url` is where the payer authenticates. The outcome then arrives by webhook
(`payment_intent.succeeded` / `payment_intent.payment_failed`). Methods kept for renewals are saved on a
Stripe Customer (`setup_future_usage=off_session`) and charged later with `off_session=True`.
Every request carries an idempotency key derived from our payment or refund id, so a retried call never
charges twice.
"""

import logging

import stripe

from marketplace.subscriptions import conf
from marketplace.subscriptions.payment_providers import ChargeRequest, ChargeResult, ProviderUnavailable, RefundResult

logger = logging.getLogger("atelier.payments.stripe")

_PENDING_STATUSES = {"processing"}
_ACTION_STATUSES = {"requires_action", "requires_confirmation"}


def stripe_client() -> stripe.StripeClient:
    key = conf.get("STRIPE_SECRET_KEY")
    if not key:
        raise ProviderUnavailable("STRIPE_SECRET_KEY is not set.")
    base = conf.get("STRIPE_API_BASE")
    return stripe.StripeClient(key, base_addresses={"api": base} if base else None, max_network_retries=2)


def _unavailable(exc: stripe.StripeError) -> ProviderUnavailable:
    logger.warning("stripe request failed: %r", exc)
    return ProviderUnavailable(f"Stripe: {exc.user_message or type(exc).__name__}")


class StripeProvider:
    name = "stripe"

    def charge(self, request: ChargeRequest) -> ChargeResult:
        client = stripe_client()
        customer = request.customer
        try:
            if request.save_for_future and not customer:
                created = client.v1.customers.create(
                    params={"metadata": dict(request.metadata)},
                    options={"idempotency_key": f"{request.idempotency_key}-customer"},
                )
                customer = created.to_dict()["id"]
            params: dict = {
                "amount": request.amount,
                "currency": request.currency.lower(),
                "payment_method": request.payment_method,
                "confirm": True,
                "metadata": dict(request.metadata),
                "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            }
            if request.return_url and not request.off_session:
                params["automatic_payment_methods"] = {"enabled": True}  # redirects allowed: back to return_url
                params["return_url"] = request.return_url
            if request.description:
                params["description"] = request.description
            if customer:
                params["customer"] = customer
            if request.off_session:
                params["off_session"] = True
            elif request.save_for_future:
                params["setup_future_usage"] = "off_session"
            intent = client.v1.payment_intents.create(
                params=params, options={"idempotency_key": request.idempotency_key}
            )
        except stripe.CardError as exc:
            error = exc.error
            code = (getattr(error, "decline_code", None) or exc.code or "card_declined") if error else exc.code
            failed_intent = getattr(error, "payment_intent", None) if error is not None else None
            intent_id = failed_intent["id"] if failed_intent else ""
            return ChargeResult(
                status="failed",
                provider_reference=intent_id,
                failure_code=str(code),
                failure_reason=exc.user_message or "Your card was declined.",
                customer_reference=customer,
            )
        except stripe.InvalidRequestError as exc:
            return ChargeResult(
                status="failed",
                failure_code=exc.code or "invalid_request",
                failure_reason=exc.user_message or "The payment was refused.",
                customer_reference=customer,
            )
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return _charge_result(intent.to_dict(), customer)

    def refund(self, *, provider_reference: str, amount: int, idempotency_key: str) -> RefundResult:
        try:
            refund = stripe_client().v1.refunds.create(
                params={"payment_intent": provider_reference, "amount": amount},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            return RefundResult(status="failed", failure_reason=exc.user_message or "Refund refused.")
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        data = refund.to_dict()
        status = data["status"]
        if status == "succeeded":
            return RefundResult(status="succeeded", provider_reference=data["id"])
        if status in ("pending", "requires_action"):
            return RefundResult(status="pending", provider_reference=data["id"])
        return RefundResult(
            status="failed", provider_reference=data["id"], failure_reason=data.get("failure_reason") or status
        )


def _charge_result(intent: dict, customer: str) -> ChargeResult:
    status = intent["status"]
    base = {"provider_reference": intent["id"], "customer_reference": customer}
    if status == "succeeded":
        return ChargeResult(status="succeeded", **base)
    if status in _PENDING_STATUSES:
        return ChargeResult(status="pending", **base)
    if status in _ACTION_STATUSES:
        redirect = ((intent.get("next_action") or {}).get("redirect_to_url") or {}).get("url") or ""
        return ChargeResult(
            status="requires_action", client_secret=intent.get("client_secret") or "", action_url=redirect, **base
        )
    error = intent.get("last_payment_error") or {}
    return ChargeResult(
        status="failed",
        failure_code=error.get("decline_code") or error.get("code") or status,
        failure_reason=error.get("message") or f"The payment {status.replace('_', ' ')}.",
        **base,
    )
