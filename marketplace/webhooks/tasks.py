"""Webhook background tasks: thin wrappers over services (which hold the rules)."""

from django.tasks import task


@task(queue_name="default")
def fan_out_event_task(event_pk: int) -> int:
    """Enqueued right after an event commits (receivers.py)."""
    from marketplace.webhooks import services

    return services.webhook_events_fan_out(event_ids=[event_pk])


@task(queue_name="default")
def fan_out_pending_task() -> int:
    """Periodic: events the immediate path missed (a crash between commit and enqueue)."""
    from marketplace.webhooks import services

    return services.webhook_events_fan_out()


@task(queue_name="default")
def deliver_webhook_task(delivery_pk: int) -> str:
    from marketplace.webhooks import services

    return services.webhook_delivery_attempt(delivery_pk=delivery_pk)
