"""Commissions HTTP API: briefs, offers, deliveries, reviews, cancellation, history and the private files.

Works with a login token or an API key holding `commissions:read` (GET) / `commissions:write` (POST). Objects
are fetched through selectors as the acting user, so what someone may not see is a 404; what they may see but
not do is a 403; what the commission's state forbids is a 409 naming the state.
"""

import io
from typing import Any

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import IdempotentMixin
from core.permissions import HasScope
from core.renderers import AnyMediaRenderer
from core.schema import PROBLEM, summaries
from core.serializers import query_values
from marketplace.commissions import selectors, services
from marketplace.commissions.models import Commission, CommissionState
from marketplace.commissions.serializers import (
    CancelSerializer,
    CommissionCreateSerializer,
    CommissionDetailSerializer,
    CommissionListQuerySerializer,
    CommissionSerializer,
    DeliveryAcceptSerializer,
    DeliveryGenerateSerializer,
    DeliverySerializer,
    DeliveryUploadSerializer,
    HistoryEntrySerializer,
    OfferAcceptSerializer,
    OfferActionSerializer,
    OfferCreateSerializer,
    OfferSerializer,
    RevisionRequestSerializer,
)
from marketplace.commissions.services._files import open_file

TAGS = ["commissions"]


class CommissionScoped:
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"GET": {"commissions:read"}, "POST": {"commissions:write"}}


def _detail(request: Request, commission: Commission, *, code: int = status.HTTP_200_OK) -> Response:
    fresh = selectors.commissions_visible_to(user=request.user).prefetch_related("references").get(pk=commission.pk)
    history = selectors.commission_history(commission=fresh, user=request.user)
    return Response(
        CommissionDetailSerializer(fresh, context={"request": request, "history": history}).data, status=code
    )


def _png(handle: Any, filename: str) -> FileResponse:
    response = FileResponse(handle, content_type="image/png", filename=filename)
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _binary(description: str) -> Any:
    return extend_schema(
        responses={(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description=description), 404: PROBLEM},
        tags=TAGS,
    )


# --- briefs ------------------------------------------------------------------------------------------------


class CommissionListCreateView(IdempotentMixin, CommissionScoped, generics.GenericAPIView):
    serializer_class = CommissionSerializer
    parser_classes = [JSONParser, MultiPartParser]

    def get_queryset(self):
        query = CommissionListQuerySerializer(data=query_values(self.request.query_params))
        query.is_valid(raise_exception=True)
        return selectors.commissions_for(
            user=self.request.user, role=query.validated_data.get("role"), state=query.validated_data.get("state")
        ).prefetch_related("references")

    @extend_schema(
        parameters=[CommissionListQuerySerializer],
        responses={200: CommissionSerializer(many=True)},
        tags=TAGS,
        description="Commissions you are a party to: as the client, or as the artist whose "
        "offer was accepted. Open briefs to offer on: /commission-briefs.",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CommissionSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        request={"application/json": CommissionCreateSerializer, "multipart/form-data": CommissionCreateSerializer},
        responses={201: CommissionDetailSerializer, 400: PROBLEM, 413: PROBLEM},
        tags=TAGS,
        description="Post a brief. Send reference images as multipart `references`.",
    )
    def post(self, request: Request) -> Response:
        payload = CommissionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        commission = services.commission_create(client=request.user, **payload.validated_data)
        return _detail(request, commission, code=status.HTTP_201_CREATED)


class CommissionBriefListView(CommissionScoped, generics.ListAPIView):
    """Open briefs you (an artist) may send an offer on, soonest deadline first."""

    serializer_class = CommissionSerializer

    def get_queryset(self):
        return selectors.commission_briefs_for(user=self.request.user).prefetch_related("references")

    @extend_schema(tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


@summaries(get="One commission: the brief, its state, the accepted offer")
class CommissionDetailView(CommissionScoped, APIView):
    @extend_schema(responses={200: CommissionDetailSerializer, 404: PROBLEM}, tags=TAGS)
    def get(self, request: Request, public_id) -> Response:
        return _detail(request, selectors.commission_get(user=request.user, public_id=public_id))


class CommissionHistoryView(CommissionScoped, APIView):
    @extend_schema(
        responses={200: HistoryEntrySerializer(many=True), 404: PROBLEM},
        tags=TAGS,
        description="Every state change: who (actor, role), from, to, when, and the note.",
    )
    def get(self, request: Request, public_id) -> Response:
        commission = selectors.commission_get(user=request.user, public_id=public_id)
        return Response(
            HistoryEntrySerializer(
                selectors.commission_history(commission=commission, user=request.user), many=True
            ).data
        )


class CommissionCancelView(IdempotentMixin, CommissionScoped, APIView):
    @extend_schema(
        request=CancelSerializer,
        responses={200: CommissionDetailSerializer, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        tags=TAGS,
        description="Cancel before delivery (the client; or the artist backing out once awarded). "
        "Whatever was paid is refunded.",
    )
    def post(self, request: Request, public_id) -> Response:
        payload = CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        commission = selectors.commission_get(user=request.user, public_id=public_id)
        commission = services.commission_cancel(
            commission=commission, actor=request.user, note=payload.validated_data["note"]
        )
        return _detail(request, commission)


@summaries(get="One of a brief's reference images")
class CommissionReferenceFileView(CommissionScoped, APIView):
    renderer_classes = [JSONRenderer, AnyMediaRenderer]

    @_binary("A reference image of the brief (PNG).")
    def get(self, request: Request, public_id, index: int) -> FileResponse:
        commission = selectors.commission_get(user=request.user, public_id=public_id)
        reference = selectors.commission_reference_get(commission=commission, index=index)
        return _png(open_file(reference.file.name), f"reference-{index}.png")


# --- offers ------------------------------------------------------------------------------------------------


@summaries(post="Send an offer on an open brief: price, delivery date and revisions")
class CommissionOfferListCreateView(IdempotentMixin, CommissionScoped, generics.GenericAPIView):
    serializer_class = OfferSerializer

    def get_queryset(self):
        commission = selectors.commission_get(user=self.request.user, public_id=self.kwargs["public_id"])
        return selectors.offers_for_commission(user=self.request.user, commission=commission)

    @extend_schema(
        responses={200: OfferSerializer(many=True), 404: PROBLEM},
        tags=TAGS,
        description="The client sees every offer; an artist sees their own.",
    )
    def get(self, request: Request, public_id) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(OfferSerializer(page, many=True).data)

    @extend_schema(
        request=OfferCreateSerializer,
        responses={201: OfferSerializer, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        tags=TAGS,
    )
    def post(self, request: Request, public_id) -> Response:
        payload = OfferCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        commission = selectors.commission_get(user=request.user, public_id=public_id)
        offer = services.offer_create(commission=commission, artist=request.user, **payload.validated_data)
        return Response(OfferSerializer(offer).data, status=status.HTTP_201_CREATED)


class OfferListView(CommissionScoped, generics.ListAPIView):
    """The offers you sent, newest first."""

    serializer_class = OfferSerializer

    def get_queryset(self):
        return selectors.offers_by_artist(user=self.request.user)

    @extend_schema(tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


@summaries(get="One offer on a brief: price, delivery date, revisions included")
class OfferDetailView(CommissionScoped, APIView):
    @extend_schema(responses={200: OfferSerializer, 404: PROBLEM}, tags=TAGS)
    def get(self, request: Request, public_id) -> Response:
        return Response(OfferSerializer(selectors.offer_get(user=request.user, public_id=public_id)).data)


class OfferAcceptView(IdempotentMixin, CommissionScoped, APIView):
    @extend_schema(
        request=OfferAcceptSerializer,
        responses={
            200: CommissionDetailSerializer,
            202: CommissionDetailSerializer,
            402: PROBLEM,
            403: PROBLEM,
            404: PROBLEM,
            409: PROBLEM,
            503: PROBLEM,
        },
        tags=TAGS,
        description="Accept an offer and pay its price (held by the platform until you accept a delivery); the "
        "other offers are declined. 202: the payment needs your action (payment.client_secret); the "
        "commission is awarded when it completes. 402: declined, the brief stays open.",
    )
    def post(self, request: Request, public_id) -> Response:
        payload = OfferAcceptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        offer = selectors.offer_get(user=request.user, public_id=public_id)
        commission = services.offer_accept(offer=offer, client=request.user, **payload.validated_data)
        waiting = commission.state == CommissionState.PAYMENT_PENDING
        return _detail(request, commission, code=status.HTTP_202_ACCEPTED if waiting else status.HTTP_200_OK)


@summaries(post="Decline an offer on your brief")
class OfferDeclineView(IdempotentMixin, CommissionScoped, APIView):
    @extend_schema(
        request=OfferActionSerializer,
        responses={200: OfferSerializer, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        tags=TAGS,
    )
    def post(self, request: Request, public_id) -> Response:
        OfferActionSerializer(data=request.data).is_valid(raise_exception=True)
        offer = selectors.offer_get(user=request.user, public_id=public_id)
        return Response(OfferSerializer(services.offer_decline(offer=offer, client=request.user)).data)


@summaries(post="Withdraw your offer before it is accepted")
class OfferWithdrawView(IdempotentMixin, CommissionScoped, APIView):
    @extend_schema(
        request=OfferActionSerializer,
        responses={200: OfferSerializer, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        tags=TAGS,
    )
    def post(self, request: Request, public_id) -> Response:
        OfferActionSerializer(data=request.data).is_valid(raise_exception=True)
        offer = selectors.offer_get(user=request.user, public_id=public_id)
        return Response(OfferSerializer(services.offer_withdraw(offer=offer, artist=request.user)).data)


# --- deliveries --------------------------------------------------------------------------------------------


@summaries(get="A commission's deliveries, oldest first")
class CommissionDeliveryListCreateView(IdempotentMixin, CommissionScoped, generics.GenericAPIView):
    serializer_class = DeliverySerializer
    parser_classes = [JSONParser, MultiPartParser]

    def get_queryset(self):
        commission = selectors.commission_party_get(user=self.request.user, public_id=self.kwargs["public_id"])
        return selectors.deliveries_for_commission(commission=commission)

    @extend_schema(responses={200: DeliverySerializer(many=True), 404: PROBLEM}, tags=TAGS)
    def get(self, request: Request, public_id) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DeliverySerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        request={"multipart/form-data": DeliveryUploadSerializer, "application/json": DeliveryGenerateSerializer},
        responses={
            201: DeliverySerializer,
            202: DeliverySerializer,
            400: PROBLEM,
            403: PROBLEM,
            404: PROBLEM,
            409: PROBLEM,
            413: PROBLEM,
            429: PROBLEM,
        },
        tags=TAGS,
        description='Deliver uploaded images (multipart `images`), or `{"model", "count", "seed"}` to have '
        "one of your own models draw them: 202, the delivery is `generating` until the job finishes.",
    )
    def post(self, request: Request, public_id) -> Response:
        commission = selectors.commission_get(user=request.user, public_id=public_id)
        if request.content_type.startswith("multipart/"):
            upload = DeliveryUploadSerializer(data=request.data)
            upload.is_valid(raise_exception=True)
            delivery = services.delivery_upload(
                commission=commission,
                artist=request.user,
                files=upload.validated_data["images"],
                note=upload.validated_data["note"],
            )
            code = status.HTTP_201_CREATED
        else:
            generate = DeliveryGenerateSerializer(data=request.data)
            generate.is_valid(raise_exception=True)
            delivery = services.delivery_generate(commission=commission, artist=request.user, **generate.validated_data)
            code = status.HTTP_202_ACCEPTED
        delivery = selectors.delivery_get(user=request.user, public_id=delivery.public_id)
        return Response(DeliverySerializer(delivery, context={"request": request}).data, status=code)


@summaries(get="One delivery of a commission: its images and state")
class DeliveryDetailView(CommissionScoped, APIView):
    @extend_schema(responses={200: DeliverySerializer, 404: PROBLEM}, tags=TAGS)
    def get(self, request: Request, public_id) -> Response:
        delivery = selectors.delivery_get(user=request.user, public_id=public_id)
        return Response(DeliverySerializer(delivery, context={"request": request}).data)


class DeliveryAcceptView(IdempotentMixin, CommissionScoped, APIView):
    @extend_schema(
        request=DeliveryAcceptSerializer,
        responses={200: CommissionDetailSerializer, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        tags=TAGS,
        description="Accept the delivery: the commission completes and the artist is paid.",
    )
    def post(self, request: Request, public_id) -> Response:
        payload = DeliveryAcceptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        delivery = selectors.delivery_get(user=request.user, public_id=public_id)
        commission = services.delivery_accept(delivery=delivery, client=request.user, **payload.validated_data)
        return _detail(request, commission)


class DeliveryRevisionView(IdempotentMixin, CommissionScoped, APIView):
    @extend_schema(
        request=RevisionRequestSerializer,
        responses={200: CommissionDetailSerializer, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        tags=TAGS,
        description="Ask for a revision, within the revisions the offer included (then 409).",
    )
    def post(self, request: Request, public_id) -> Response:
        payload = RevisionRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        delivery = selectors.delivery_get(user=request.user, public_id=public_id)
        commission = services.delivery_request_revision(
            delivery=delivery, client=request.user, **payload.validated_data
        )
        return _detail(request, commission)


@summaries(get="One delivered image (the commission's client and artist only)")
class DeliveryImageFileView(CommissionScoped, APIView):
    renderer_classes = [JSONRenderer, AnyMediaRenderer]

    @_binary("A delivered image (PNG), for the client and the artist only.")
    def get(self, request: Request, public_id, index: int) -> FileResponse:
        delivery = selectors.delivery_get(user=request.user, public_id=public_id)
        image = selectors.delivery_image_get(delivery=delivery, index=index)
        data = services.delivery_image_read(delivery=delivery, image=image)
        return _png(io.BytesIO(data), f"delivery-{delivery.number}-{index}.png")
