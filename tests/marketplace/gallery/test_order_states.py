"""The order state machine: every (state, action) pair, allowed or not, against the one transition table."""

import pytest

from core.errors import Conflict, InvalidTransition
from marketplace.gallery.models import Order, OrderEvent, OrderState
from marketplace.gallery.services import ORDER_TRANSITIONS, order_transition
from tests.marketplace.gallery.helpers import buy

ALLOWED = {
    ("pending", "pay"): "paid",
    ("pending", "cancel"): "cancelled",
    ("paid", "fulfil"): "fulfilled",
    ("paid", "refund"): "refunded",
    ("fulfilled", "refund"): "refunded",
}
PAIRS = [(state, action) for state in OrderState.values for action in ORDER_TRANSITIONS]


def test_the_table_is_exactly_the_documented_machine():
    table = {(state, action): target for action, (sources, target, _) in ORDER_TRANSITIONS.items() for state in sources}
    assert table == ALLOWED


@pytest.fixture
def order_in(user_client, make_artwork, make_listing):
    artwork = make_artwork(50)
    listing = make_listing(artwork["id"])
    created = buy(user_client, listing["id"], payment_method=None).json()

    def put(state: str) -> Order:
        Order.objects.filter(public_id=created["id"]).update(state=state)
        return Order.objects.select_related("artwork", "listing", "buyer").get(public_id=created["id"])

    return put


@pytest.mark.parametrize("state, action", PAIRS)
@pytest.mark.django_db
def test_every_transition_outside_the_table_is_409_naming_the_state(order_in, state, action):
    order = order_in(state)
    events = OrderEvent.objects.filter(order=order).count()
    if (state, action) in ALLOWED:
        moved = order_transition(order=order, action=action)
        assert moved.state == ALLOWED[(state, action)]
        assert OrderEvent.objects.filter(order=order).count() == events + 1
        return
    with pytest.raises(InvalidTransition) as error:
        order_transition(order=order, action=action)
    assert error.value.status == 409 and error.value.extra["state"] == state
    assert state in error.value.detail
    assert Order.objects.get(pk=order.pk).state == state
    assert OrderEvent.objects.filter(order=order).count() == events


@pytest.mark.django_db
def test_refunding_a_fulfilled_exclusive_is_refused_by_the_machine(order_in):
    order = order_in("fulfilled")
    Order.objects.filter(pk=order.pk).update(licence_type="exclusive")
    order.refresh_from_db()
    with pytest.raises(Conflict) as error:
        order_transition(order=order, action="refund")
    assert error.value.code == "exclusive_not_refundable" and error.value.extra["state"] == "fulfilled"


@pytest.mark.parametrize("state", ["paid", "fulfilled", "refunded", "cancelled"])
@pytest.mark.django_db
def test_the_api_answers_409_with_the_state_for_pay_and_cancel(user_client, order_in, state):
    order = order_in(state)
    for action, body in (("pay", {"payment_method": "tok_visa"}), ("cancel", None)):
        response = user_client.post(f"/api/v1/orders/{order.public_id}/{action}", body, format="json")
        assert response.status_code == 409, (action, response.json())
        assert response.json()["code"] == "invalid_transition" and response.json()["state"] == state


@pytest.mark.parametrize("state", ["pending", "refunded", "cancelled"])
@pytest.mark.django_db
def test_the_api_answers_409_with_the_state_for_refund(client_for, make_user, order_in, state):
    order = order_in(state)
    response = client_for(make_user(role="staff")).post(f"/api/v1/orders/{order.public_id}/refund")
    assert response.status_code == 409 and response.json()["state"] == state
