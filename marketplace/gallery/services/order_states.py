"""The order state machine, in one place: which action moves an order from which states to which, the one
extra rule (a fulfilled exclusive cannot be refunded: its ownership moved on chain), and the event row plus the
domain event written with every change.

    pending ──pay──▶ paid ──fulfil──▶ fulfilled
       │              │                  │
     cancel         refund            refund (not exclusive)
       ▼              ▼                  ▼
    cancelled      refunded ◀────────────┘
"""

from typing import Any

from django.utils import timezone

from core.errors import Conflict, InvalidTransition
from core.events import event_emit
from marketplace.gallery.errors import GalleryError
from marketplace.gallery.models import LicenceType, Order, OrderEvent, OrderState

# action -> (states it may start from, state it leads to, timestamp field it sets)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "pay": ((OrderState.PENDING,), OrderState.PAID, "paid_at"),
    "fulfil": ((OrderState.PAID,), OrderState.FULFILLED, "fulfilled_at"),
    "refund": ((OrderState.PAID, OrderState.FULFILLED), OrderState.REFUNDED, "refunded_at"),
    "cancel": ((OrderState.PENDING,), OrderState.CANCELLED, "cancelled_at"),
}
ACTIONS = tuple(TRANSITIONS)


def order_check_transition(*, order: Order, action: str) -> str:
    """The state `action` leads to from the order's state; InvalidTransition (409, naming the state) if none."""
    sources, target, _ = TRANSITIONS[action]
    if order.state not in sources:
        raise InvalidTransition(entity="order", state=order.state, action=action, order=str(order.public_id))
    if action == "refund" and order.licence_type == LicenceType.EXCLUSIVE and order.state == OrderState.FULFILLED:
        raise Conflict(
            "A fulfilled exclusive licence cannot be refunded: the work's ownership moved on chain.",
            code=GalleryError.EXCLUSIVE_NOT_REFUNDABLE,
            state=order.state,
            action=action,
            order=str(order.public_id),
        )
    return target


def _payload(order: Order) -> dict[str, Any]:
    return {
        "order": str(order.public_id),
        "artwork": str(order.artwork.public_id),
        "listing": str(order.listing.public_id),
        "licence_type": order.licence_type,
        "amount": order.amount,
        "currency": order.currency,
        "state": order.state,
    }


def order_record_created(*, order: Order, actor: Any) -> None:
    OrderEvent.objects.create(order=order, actor=actor, from_state="", to_state=order.state)
    event_emit(type="order.created", user=order.buyer, payload=_payload(order))


def order_transition(*, order: Order, action: str, actor: Any = None, note: str = "") -> Order:
    """Move a locked order: check, set the state and its timestamp, write the event row and `order.<state>`."""
    target = order_check_transition(order=order, action=action)
    previous = order.state
    order.state = target
    setattr(order, TRANSITIONS[action][2], timezone.now())
    order.save()
    OrderEvent.objects.create(order=order, actor=actor, from_state=previous, to_state=target, note=note[:300])
    event_emit(type=f"order.{target}", user=order.buyer, payload={**_payload(order), "from": previous})
    return order
