"""The webhooks app's row locks, all here (house rule 5). Across tables: the owner (for the per-user endpoint
limit), then the endpoint, then its delivery; within a table, rows in primary-key order. Endpoints and owners
take NO KEY UPDATE locks, so fan-outs may still insert deliveries meanwhile. Call inside `transaction.atomic()`.
(Fan-out claims events with SKIP LOCKED: a queue claim, kept with its query in services.py.)"""

from typing import Any

from django.contrib.auth import get_user_model

from marketplace.webhooks.models import WebhookDelivery, WebhookEndpoint


def lock_owner(pk: int) -> Any:
    return get_user_model().objects.select_for_update(no_key=True).filter(pk=pk).first()


def lock_endpoint(pk: int) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update(no_key=True).get(pk=pk)


def lock_endpoint_if_any(pk: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.select_for_update(no_key=True).filter(pk=pk).first()


def lock_delivery(pk: int) -> WebhookDelivery:
    return WebhookDelivery.objects.select_for_update().get(pk=pk)


def lock_delivery_if_any(pk: int) -> WebhookDelivery | None:
    return WebhookDelivery.objects.select_for_update().filter(pk=pk).first()
