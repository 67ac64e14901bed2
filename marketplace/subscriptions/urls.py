from django.urls import path

from marketplace.subscriptions import api, api_payouts

urlpatterns = [
    path("plans", api.PlanListView.as_view(), name="plan-list"),
    path("subscription", api.SubscriptionView.as_view(), name="subscription"),
    path("subscription/cancel", api.SubscriptionCancelView.as_view(), name="subscription-cancel"),
    path("subscription/resume", api.SubscriptionResumeView.as_view(), name="subscription-resume"),
    path("usage", api.UsageListView.as_view(), name="usage-list"),
    path("payments", api.PaymentListView.as_view(), name="payment-list"),
    path("payments/stripe/webhook", api.StripeWebhookView.as_view(), name="stripe-webhook"),
    path("payments/<uuid:public_id>", api.PaymentDetailView.as_view(), name="payment-detail"),
    path("ledger", api.LedgerListView.as_view(), name="ledger-list"),
    path("ledger/balance", api.LedgerBalanceView.as_view(), name="ledger-balance"),
    path("payouts", api_payouts.PayoutListCreateView.as_view(), name="payout-list"),
    path("payouts/<uuid:public_id>", api_payouts.PayoutDetailView.as_view(), name="payout-detail"),
]
