"""Payouts HTTP API: request a payout of the available ledger balance, list and read my payouts."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import IdempotentMixin
from core.pagination import NewestFirstCursorPagination
from core.permissions import HasScope
from core.schema import PROBLEM, summaries
from core.serializers import StrictSerializer
from marketplace.subscriptions import selectors, services
from marketplace.subscriptions.api import BILLING_SCOPES
from marketplace.subscriptions.models import Payout


class PayoutSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Payout
        fields = [
            "id",
            "amount",
            "currency",
            "state",
            "provider",
            "failure_reason",
            "created_at",
            "paid_at",
            "failed_at",
        ]
        read_only_fields = fields


class PayoutRequestSerializer(StrictSerializer):
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", max_length=3, help_text="The balance to pay out, e.g. USD (all of it)."
    )


class PayoutListCreateView(IdempotentMixin, generics.ListAPIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = BILLING_SCOPES
    serializer_class = PayoutSerializer
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self):
        return selectors.payouts_for(user=self.request.user)

    @extend_schema(tags=["payouts"], summary="My payouts")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=PayoutRequestSerializer,
        responses={201: PayoutSerializer, 400: PROBLEM, 409: PROBLEM},
        tags=["payouts"],
        summary="Pay out the available balance in a currency (honours Idempotency-Key)",
        description="409 `nothing_to_pay_out` at a zero balance, `payout_pending` while one is on its "
        "way. The test provider settles at once (`paid`); otherwise staff mark it paid.",
    )
    def post(self, request: Request) -> Response:
        payload = PayoutRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        payout = services.payout_request(user=request.user, currency=payload.validated_data["currency"])
        return Response(PayoutSerializer(payout).data, status=status.HTTP_201_CREATED)


@summaries(get="One payout of your balance")
class PayoutDetailView(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = BILLING_SCOPES

    @extend_schema(responses={200: PayoutSerializer, 404: PROBLEM}, tags=["payouts"])
    def get(self, request: Request, public_id) -> Response:
        return Response(PayoutSerializer(selectors.payout_get(user=request.user, public_id=public_id)).data)
