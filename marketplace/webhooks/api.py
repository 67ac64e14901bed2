"""Webhooks HTTP API: endpoints, secret rotation, test events, the delivery log, redelivery."""

from datetime import timedelta

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from core.idempotency import IdempotentMixin
from core.jobs import JobState
from core.pagination import NewestFirstCursorPagination
from core.permissions import HasScope
from core.request_body import no_body
from core.schema import PROBLEM, summaries
from core.throttling import ScopedRateThrottle
from marketplace.webhooks import selectors, services
from marketplace.webhooks.serializers import (
    DeliveryFilterSerializer,
    RotateSecretSerializer,
    WebhookDeliveryDetailSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookEndpointWithSecretSerializer,
)

TAGS = ["webhooks"]


class WebhookScoped:
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"webhooks:write"}


@summaries(
    get="Your webhook endpoints",
    post="Add a webhook endpoint; its signing secret is shown once, in this answer",
)
class EndpointListCreateView(IdempotentMixin, WebhookScoped, generics.GenericAPIView):
    serializer_class = WebhookEndpointSerializer
    secret_fields = ("secret",)

    def get_queryset(self):
        return selectors.webhook_endpoints_for(user=self.request.user)

    @extend_schema(responses={200: WebhookEndpointSerializer(many=True)}, tags=TAGS)
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointWithSecretSerializer, 409: PROBLEM},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        payload = WebhookEndpointCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_create(owner=request.user, **payload.validated_data)
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)


@summaries(
    get="One webhook endpoint",
    patch="Change an endpoint's URL, events, description, or switch it off and on",
    delete="Delete a webhook endpoint",
)
class EndpointDetailView(WebhookScoped, APIView):
    @extend_schema(responses={200: WebhookEndpointSerializer}, tags=TAGS)
    def get(self, request: Request, public_id) -> Response:
        endpoint = selectors.webhook_endpoint_get(user=request.user, public_id=public_id)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(request=WebhookEndpointUpdateSerializer, responses={200: WebhookEndpointSerializer}, tags=TAGS)
    def patch(self, request: Request, public_id) -> Response:
        endpoint = selectors.webhook_endpoint_get(user=request.user, public_id=public_id)
        payload = WebhookEndpointUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, **payload.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(responses={204: None}, tags=TAGS)
    def delete(self, request: Request, public_id) -> Response:
        endpoint = selectors.webhook_endpoint_get(user=request.user, public_id=public_id)
        services.webhook_endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


@summaries(post="Rotate an endpoint's signing secret; the old one can keep signing beside it for up to 7 days")
class EndpointRotateSecretView(IdempotentMixin, WebhookScoped, APIView):
    secret_fields = ("secret",)

    @extend_schema(
        request=RotateSecretSerializer, responses={200: WebhookEndpointWithSecretSerializer, 409: PROBLEM}, tags=TAGS
    )
    def post(self, request: Request, public_id) -> Response:
        endpoint = selectors.webhook_endpoint_get(user=request.user, public_id=public_id)
        payload = RotateSecretSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        grace = timedelta(seconds=payload.validated_data["previous_secret_expires_in"])
        endpoint = services.webhook_endpoint_rotate_secret(endpoint=endpoint, previous_secret_expires_in=grace)
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)


class EndpointTestView(IdempotentMixin, WebhookScoped, APIView):
    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, ScopedRateThrottle]
    throttle_scope = "webhook_send"  # each one makes the server send a request to a URL the caller chose

    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer},
        tags=TAGS,
        description="Queue a `webhook.test` event to this endpoint, whatever its event filter.",
    )
    @no_body
    def post(self, request: Request, public_id) -> Response:
        endpoint = selectors.webhook_endpoint_get(user=request.user, public_id=public_id)
        delivery = services.webhook_endpoint_send_test(endpoint=endpoint)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@summaries(get="An endpoint's deliveries, newest first")
class EndpointDeliveryListView(WebhookScoped, generics.GenericAPIView):
    serializer_class = WebhookDeliverySerializer
    pagination_class = NewestFirstCursorPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, description=f"Only deliveries in this state: {', '.join(JobState.values)}."),
            OpenApiParameter("event_type", str),
        ],
        responses={200: WebhookDeliverySerializer(many=True)},
        tags=TAGS,
    )
    def get(self, request: Request, public_id) -> Response:
        endpoint = selectors.webhook_endpoint_get(user=request.user, public_id=public_id)
        query = DeliveryFilterSerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        deliveries = selectors.webhook_deliveries_for(
            user=request.user,
            endpoint=endpoint,
            state=query.validated_data.get("state"),
            event_type=query.validated_data.get("event_type"),
        )
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


@summaries(get="One webhook delivery, with every attempt and response")
class DeliveryDetailView(WebhookScoped, APIView):
    @extend_schema(responses={200: WebhookDeliveryDetailSerializer}, tags=TAGS)
    def get(self, request: Request, public_id) -> Response:
        delivery = selectors.webhook_delivery_get(user=request.user, public_id=public_id)
        return Response(WebhookDeliveryDetailSerializer(delivery).data)


class DeliveryRedeliverView(IdempotentMixin, WebhookScoped, APIView):
    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, ScopedRateThrottle]
    throttle_scope = "webhook_send"

    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer},
        tags=TAGS,
        description="Send a finished delivery again as a new series of attempts.",
    )
    @no_body
    def post(self, request: Request, public_id) -> Response:
        delivery = selectors.webhook_delivery_get(user=request.user, public_id=public_id)
        delivery = services.webhook_delivery_redeliver(delivery=delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
