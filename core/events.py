"""Domain events: a row written in the same transaction as the change it describes (an outbox).

Any app emits (`event_emit(type="training.succeeded", user=owner, payload={...})`); after the transaction
commits, `event_committed` fires so subscribers (the outbound webhooks app) can fan the event out. Nothing is
lost if the process dies between commit and fan-out: undispatched events stay in the table for the next pass.
Event types are `<area>.<what>`: training.*, generation.*, provenance.*, order.*, commission.*, ….
"""

from typing import Any

from django.db import transaction
from django.dispatch import Signal

from core.models import DomainEvent

# Sent after commit with `event=DomainEvent`.
event_committed = Signal()


def event_emit(*, type: str, payload: dict[str, Any], user: Any = None) -> DomainEvent:
    """Record an event for `user` (the account whose webhooks should hear of it; None for platform events)."""
    if "." not in type:
        raise ValueError(f"event type {type!r} must look like 'area.what'")
    event = DomainEvent.objects.create(type=type, user=user, payload=payload)
    transaction.on_commit(lambda: event_committed.send(sender=DomainEvent, event=event))
    return event
