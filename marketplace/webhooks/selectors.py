"""Webhook reads, scoped to the acting user: another user's endpoint or delivery is simply not found."""

from uuid import UUID

from django.db.models import QuerySet

from core.errors import NotFound
from marketplace.webhooks.models import WebhookDelivery, WebhookEndpoint


def webhook_endpoints_for(*, user) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(owner=user).order_by("-created_at", "-id")


def webhook_endpoint_get(*, user, public_id: UUID) -> WebhookEndpoint:
    endpoint = webhook_endpoints_for(user=user).filter(public_id=public_id).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def webhook_deliveries_for(
    *, user, endpoint: WebhookEndpoint, state: str | None = None, event_type: str | None = None
) -> QuerySet[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint, endpoint__owner=user).select_related("endpoint")
    if state:
        deliveries = deliveries.filter(state=state)
    if event_type:
        deliveries = deliveries.filter(event_type=event_type)
    return deliveries


def webhook_delivery_get(*, user, public_id: UUID) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.filter(public_id=public_id, endpoint__owner=user)
        .select_related("endpoint")
        .prefetch_related("attempt_log")
        .first()
    )
    if delivery is None:
        raise NotFound("No such webhook delivery.")
    return delivery


def delivery_state_counts() -> dict[str, int]:
    """Webhook deliveries per state (staff dashboard)."""
    from django.db.models import Count

    return {row["state"]: row["n"] for row in WebhookDelivery.objects.values("state").annotate(n=Count("id"))}
