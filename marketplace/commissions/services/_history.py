"""The one way a commission changes state: check the rule, write the history row, emit the domain event."""

from typing import Any

from django.utils import timezone

from core.events import event_emit
from marketplace.commissions.models import Commission, CommissionEvent
from marketplace.commissions.transitions import ARTIST, CLIENT, SYSTEM, transition_check


def history_record(
    *,
    commission: Commission,
    action: str,
    actor: Any,
    actor_role: str,
    from_state: str,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> CommissionEvent:
    return CommissionEvent.objects.create(
        commission=commission,
        actor=actor,
        actor_role=actor_role,
        action=action,
        from_state=from_state,
        to_state=commission.state,
        note=note[:5000],
        data=data or {},
    )


def event_payload(*, commission: Commission, actor: Any, **extra: Any) -> dict[str, Any]:
    return {
        "commission": str(commission.public_id),
        "state": commission.state,
        "client": str(commission.client.public_id),
        "artist": str(commission.artist.public_id) if commission.artist_id else None,
        "actor": str(actor.public_id) if actor is not None else None,
        **extra,
    }


def commission_emit(*, commission: Commission, event: str, audience: tuple[str, ...], actor: Any, **extra: Any) -> None:
    """`commission.<event>` for each party in `audience` (the artist only once there is one)."""
    users = {CLIENT: commission.client, ARTIST: commission.artist}
    for party in audience:
        if users[party] is not None:
            event_emit(
                type=f"commission.{event}",
                user=users[party],
                payload=event_payload(commission=commission, actor=actor, **extra),
            )


def commission_transition(
    *,
    commission: Commission,
    action: str,
    actor: Any = None,
    actor_role: str = SYSTEM,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> CommissionEvent:
    """Move a *locked* commission by `action` (transitions.RULES), in the caller's transaction. Any other field
    changes the caller made on `commission` are saved with it."""
    rule = transition_check(state=commission.state, action=action, actor=actor_role)
    previous = commission.state
    commission.state, commission.state_changed_at = rule.target, timezone.now()
    commission.save()
    entry = history_record(
        commission=commission,
        action=action,
        actor=actor,
        actor_role=actor_role,
        from_state=previous,
        note=note,
        data=data,
    )
    if rule.event:
        commission_emit(
            commission=commission,
            event=rule.event,
            audience=rule.notify,
            actor=actor,
            from_state=previous,
            note=note,
            **(data or {}),
        )
    return entry
