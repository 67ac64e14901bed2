"""Webhook metrics: deliveries by state, failed attempts, and endpoints disabled for failing."""

from collections.abc import Iterable

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from marketplace.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint


def collect() -> Iterable[Metric]:
    deliveries = GaugeMetricFamily("atelier_webhook_deliveries", "Webhook deliveries by state.", labels=["state"])
    for row in WebhookDelivery.objects.values("state").annotate(n=Count("pk")):
        deliveries.add_metric([row["state"]], row["n"])
    yield deliveries
    yield GaugeMetricFamily(
        "atelier_webhook_failed_attempts",
        "Delivery attempts that failed (kept attempts).",
        value=WebhookDeliveryAttempt.objects.filter(succeeded=False).count(),
    )
    yield GaugeMetricFamily(
        "atelier_webhook_endpoints_disabled",
        "Endpoints disabled (e.g. after failing).",
        value=WebhookEndpoint.objects.filter(is_active=False).count(),
    )
