import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.events import event_emit
from core.models import DomainEvent
from core.scheduler import registered_periodic_tasks
from marketplace.webhooks import services
from marketplace.webhooks.models import WebhookDelivery

PUBLIC = "https://93.184.215.14/hooks"


@pytest.fixture(autouse=True)
def _public_only(no_private):
    return no_private


def endpoint_for(user, events=("*",)):
    return services.webhook_endpoint_create(owner=user, url=PUBLIC, events=list(events))


@pytest.mark.django_db
def test_each_event_goes_to_the_matching_active_endpoints_of_its_user(make_user):
    alice, bob = make_user(), make_user()
    everything = endpoint_for(alice)
    orders = endpoint_for(alice, ["order.*"])
    training = endpoint_for(alice, ["training.succeeded"])
    disabled = endpoint_for(alice)
    services.webhook_endpoint_update(endpoint=disabled, active=False)
    bobs = endpoint_for(bob)
    event = event_emit(type="order.paid", user=alice, payload={"order_id": "o1", "amount": 1200, "currency": "EUR"})

    assert services.webhook_events_fan_out() == 2
    deliveries = WebhookDelivery.objects.filter(event=event)
    assert {d.endpoint_id for d in deliveries} == {everything.pk, orders.pk}
    assert training.pk not in {d.endpoint_id for d in deliveries} and bobs.deliveries.count() == 0
    delivery = deliveries.first()
    assert delivery.payload == {
        "id": str(event.public_id),
        "type": "order.paid",
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": {"order_id": "o1", "amount": 1200, "currency": "EUR"},
    }
    assert delivery.msg_id == str(event.public_id) and delivery.state == "queued" and delivery.max_attempts == 5
    event.refresh_from_db()
    assert event.dispatched_at is not None


@pytest.mark.django_db
def test_fan_out_is_idempotent(user):
    endpoint_for(user)
    event = event_emit(type="generation.succeeded", user=user, payload={})
    assert services.webhook_events_fan_out() == 1
    assert services.webhook_events_fan_out() == 0
    # Even when the event is handed over again, as if the mark were lost: nothing is created twice.
    DomainEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
    assert services.webhook_events_fan_out(event_ids=[event.pk]) == 0
    assert WebhookDelivery.objects.count() == 1
    assert DomainEvent.objects.get(pk=event.pk).dispatched_at is not None


@pytest.mark.django_db
def test_events_nobody_listens_to_are_marked_dispatched(make_user):
    listener, quiet = make_user(), make_user()
    endpoint_for(listener, ["order.*"])
    events = [
        event_emit(type="order.paid", user=quiet, payload={}),
        event_emit(type="provenance.confirmed", user=None, payload={}),
        event_emit(type="training.succeeded", user=listener, payload={}),
    ]
    assert services.webhook_events_fan_out() == 0
    assert not DomainEvent.objects.filter(pk__in=[e.pk for e in events], dispatched_at__isnull=True).exists()


@pytest.mark.django_db
def test_endpoint_does_not_receive_events_older_than_itself(user):
    event = event_emit(type="order.paid", user=user, payload={})
    DomainEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(hours=1))
    endpoint_for(user)
    assert services.webhook_events_fan_out() == 0


@pytest.mark.django_db
def test_committed_event_is_fanned_out_and_delivered_by_the_queued_tasks(
    user, private_ok, receiver, run_tasks, django_capture_on_commit_callbacks
):
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url, events=["commission.*"])
    with django_capture_on_commit_callbacks(execute=True):
        event = event_emit(type="commission.offer_accepted", user=user, payload={"commission_id": "c1"})
    run_tasks()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [str(event.public_id)]
    delivery = endpoint.deliveries.get()
    assert delivery.state == "succeeded"


@pytest.mark.django_db
def test_periodic_sweep_is_registered_and_picks_up_missed_events(user, run_tasks):
    spec = registered_periodic_tasks()["webhooks.fan_out_pending"]
    assert spec.every <= timedelta(minutes=5)
    endpoint_for(user)
    event_emit(type="order.paid", user=user, payload={})  # no commit hook ran: the immediate path was missed
    from django.utils.module_loading import import_string

    import_string(spec.task_path).enqueue()
    run_tasks(max_tasks=1)
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_fan_outs_create_each_delivery_once(make_user):
    user = make_user()
    endpoint_for(user)
    endpoint_for(user, ["order.*"])
    events = [event_emit(type="order.paid", user=user, payload={"n": n}) for n in range(20)]
    barrier = threading.Barrier(4)
    errors = []

    def fan_out():
        try:
            barrier.wait()
            services.webhook_events_fan_out()
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=fan_out) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert WebhookDelivery.objects.count() == 40
    assert not DomainEvent.objects.filter(pk__in=[e.pk for e in events], dispatched_at__isnull=True).exists()
