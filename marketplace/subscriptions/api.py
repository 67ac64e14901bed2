"""Subscriptions HTTP API: plans, my subscription (subscribe, cancel, resume), usage, payments, payout ledger,
and the Stripe webhook."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import IdempotentMixin
from core.pagination import NewestFirstCursorPagination
from core.permissions import HasScope
from core.schema import PROBLEM, summaries
from core.serializers import query_values
from marketplace.subscriptions import selectors, services
from marketplace.subscriptions.models import Subscription
from marketplace.subscriptions.serializers import (
    BalanceSerializer,
    EmptySerializer,
    LedgerEntrySerializer,
    PaymentSerializer,
    PlanChangeSerializer,
    PlanSerializer,
    SubscriptionChangeSerializer,
    SubscriptionSerializer,
    UsageEntrySerializer,
    UsageQuerySerializer,
    WebhookAckSerializer,
)

# Billing scopes are not in accounts' SCOPES yet, so no API key can hold them: billing is login-token only.
BILLING_SCOPES = {"GET": {"billing:read"}, "POST": {"billing:write"}}


def _subscription_body(subscription: Subscription) -> dict:
    quotas = selectors.subscription_quotas(subscription=subscription)
    return SubscriptionSerializer(subscription, context={"quotas": quotas}).data


class PlanListView(generics.ListAPIView):
    """Public: the plans anyone can subscribe to, cheapest first."""

    permission_classes = [AllowAny]
    serializer_class = PlanSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.plans_public()

    @extend_schema(tags=["subscriptions"], auth=[])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


@summaries(get="Your subscription: plan, period, quotas used and left")
class SubscriptionView(IdempotentMixin, APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = BILLING_SCOPES

    @extend_schema(responses={200: SubscriptionSerializer}, tags=["subscriptions"])
    def get(self, request: Request) -> Response:
        return Response(_subscription_body(services.subscription_current(user=request.user)))

    @extend_schema(
        request=SubscriptionChangeSerializer,
        responses={
            200: PlanChangeSerializer,
            202: PlanChangeSerializer,
            402: OpenApiResponse(description="Payment declined; nothing changed."),
        },
        tags=["subscriptions"],
        description="Upgrade (now, prorated), downgrade (at period end), keep the current plan (undo a "
        "cancellation, update the card), or pay an overdue period. 202 when the payer must "
        "complete an action (use payment.client_secret).",
    )
    def post(self, request: Request) -> Response:
        payload = SubscriptionChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        change = services.subscription_change_plan(user=request.user, **payload.validated_data)
        quotas = selectors.subscription_quotas(subscription=change.subscription)
        body = PlanChangeSerializer(
            {"outcome": change.outcome, "subscription": change.subscription, "payment": change.payment},
            context={"quotas": quotas},
        ).data
        code = status.HTTP_202_ACCEPTED if change.outcome == "requires_action" else status.HTTP_200_OK
        return Response(body, status=code)


class SubscriptionCancelView(IdempotentMixin, APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = BILLING_SCOPES

    @extend_schema(
        request=None,
        responses={200: SubscriptionSerializer, 409: PROBLEM},
        tags=["subscriptions"],
        description="Cancel at the end of the current period (a past-due subscription ends now).",
    )
    def post(self, request: Request) -> Response:
        EmptySerializer(data=request.data).is_valid(raise_exception=True)
        return Response(_subscription_body(services.subscription_cancel(user=request.user)))


class SubscriptionResumeView(IdempotentMixin, APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = BILLING_SCOPES

    @extend_schema(
        request=None,
        responses={200: SubscriptionSerializer, 409: PROBLEM},
        tags=["subscriptions"],
        description="Undo a scheduled cancellation before the period ends.",
    )
    def post(self, request: Request) -> Response:
        EmptySerializer(data=request.data).is_valid(raise_exception=True)
        return Response(_subscription_body(services.subscription_resume(user=request.user)))


class UsageListView(generics.ListAPIView):
    """My usage ledger, newest first: this period's entries by default (`period=all` for everything)."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = BILLING_SCOPES
    serializer_class = UsageEntrySerializer
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self):
        query = UsageQuerySerializer(data=query_values(self.request.query_params))
        query.is_valid(raise_exception=True)
        current = None
        if query.validated_data["period"] == "current":
            current = services.subscription_current(user=self.request.user)
        return selectors.usage_entries_for(
            user=self.request.user, kind=query.validated_data.get("kind"), subscription=current
        )

    @extend_schema(parameters=[UsageQuerySerializer], tags=["subscriptions"])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


@summaries(get="Your payments, newest first")
class PaymentListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = BILLING_SCOPES
    serializer_class = PaymentSerializer
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self):
        return selectors.payments_for(user=self.request.user)

    @extend_schema(tags=["payments"])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


@summaries(get="One payment, with its refunds")
class PaymentDetailView(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = BILLING_SCOPES

    @extend_schema(responses={200: PaymentSerializer}, tags=["payments"])
    def get(self, request: Request, public_id) -> Response:
        return Response(PaymentSerializer(selectors.payment_get(user=request.user, public_id=public_id)).data)


class LedgerListView(generics.ListAPIView):
    """My payout ledger (sales and commissions credited, clawbacks and payouts debited)."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = BILLING_SCOPES
    serializer_class = LedgerEntrySerializer
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self):
        return selectors.ledger_entries_for(user=self.request.user)

    @extend_schema(tags=["payouts"])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


@summaries(get="Your payout balance per currency")
class LedgerBalanceView(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = BILLING_SCOPES

    @extend_schema(responses={200: BalanceSerializer}, tags=["payouts"])
    def get(self, request: Request) -> Response:
        return Response(BalanceSerializer({"balances": selectors.ledger_balance(user=request.user)}).data)


class StripeWebhookView(APIView):
    """Public, CSRF-exempt (no session auth): authenticity is the Stripe-Signature over the raw body."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []
    parser_classes: list = []  # the body is read raw, never parsed before the signature is checked

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: WebhookAckSerializer},
        parameters=[OpenApiParameter("Stripe-Signature", str, OpenApiParameter.HEADER, required=True)],
        auth=[],
        tags=["payments"],
    )
    def post(self, request: Request) -> Response:
        outcome = services.stripe_webhook_process(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
        return Response({"received": True, "duplicate": outcome.duplicate, "event_id": outcome.event_id})
