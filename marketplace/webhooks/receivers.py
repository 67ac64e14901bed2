"""Hear every committed domain event and queue its fan-out."""

import logging

from django.dispatch import receiver

from core.events import event_committed
from marketplace.webhooks.tasks import fan_out_event_task

logger = logging.getLogger("atelier.webhooks")


@receiver(event_committed, dispatch_uid="webhooks.fan_out_on_commit")
def enqueue_fan_out(sender, event, **kwargs) -> None:
    try:
        fan_out_event_task.enqueue(event.pk)
    except Exception:
        # The caller's transaction has committed; failing now would only hide its success. The event stays
        # undispatched and the periodic fan-out (fan_out_pending_task) picks it up.
        logger.exception("could not enqueue the webhook fan-out of event %s", event.pk)
