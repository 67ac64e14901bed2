"""Write services of the subscriptions app (plans, subscriptions, usage, payments, payouts, webhooks).

Other apps import from here: `from marketplace.subscriptions import services`.
"""

from marketplace.subscriptions.services.ledger import ledger_credit, ledger_debit
from marketplace.subscriptions.services.payments import (
    payment_abandon,
    payment_charge,
    payment_complete_test_action,
    payment_refund,
    payment_settle,
)
from marketplace.subscriptions.services.payouts import payout_mark_failed, payout_mark_paid, payout_request
from marketplace.subscriptions.services.plans import plans_seed_defaults
from marketplace.subscriptions.services.renewals import subscription_renew, subscription_renew_due
from marketplace.subscriptions.services.stripe_events import WebhookOutcome, stripe_webhook_process
from marketplace.subscriptions.services.subscriptions import (
    PlanChange,
    subscription_cancel,
    subscription_cancel_now,
    subscription_change_plan,
    subscription_current,
    subscription_lock_current,
    subscription_resume,
)
from marketplace.subscriptions.services.usage import usage_consume, usage_refund

__all__ = [
    "plans_seed_defaults",
    "payout_mark_failed",
    "payout_mark_paid",
    "payout_request",
    "payment_abandon",
    "PlanChange",
    "WebhookOutcome",
    "ledger_credit",
    "ledger_debit",
    "payment_charge",
    "payment_complete_test_action",
    "payment_refund",
    "payment_settle",
    "stripe_webhook_process",
    "subscription_cancel",
    "subscription_cancel_now",
    "subscription_change_plan",
    "subscription_current",
    "subscription_lock_current",
    "subscription_renew",
    "subscription_renew_due",
    "subscription_resume",
    "usage_consume",
    "usage_refund",
]
