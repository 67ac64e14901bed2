import pytest

from core.events import event_emit
from marketplace.webhooks import services
from marketplace.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.marketplace.webhooks.helpers import Reply


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user(role="staff"))
    return client


@pytest.mark.django_db
def test_admin_lists_endpoints_and_deliveries_with_attempts_inline(staff_client, user, private_ok, receiver, run_tasks):
    receiver.reply(Reply(500, b"nope"))
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    event_emit(type="order.paid", user=user, payload={})
    services.webhook_events_fan_out()
    run_tasks()
    delivery = endpoint.deliveries.get()
    listing = staff_client.get("/admin/webhooks/webhookendpoint/", {"q": user.email, "is_active__exact": "1"})
    assert listing.status_code == 200 and receiver.url in listing.content.decode()
    page = staff_client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page  # the secret is shown once, through the API only
    assert staff_client.get("/admin/webhooks/webhookdelivery/", {"state__exact": "queued"}).status_code == 200
    detail = staff_client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert "nope" in detail and "HTTP 500" in detail


@pytest.mark.django_db
def test_admin_disable_and_enable_actions(staff_client, user, no_private):
    endpoint = services.webhook_endpoint_create(owner=user, url="https://93.184.215.14/h")
    staff_client.post("/admin/webhooks/webhookendpoint/", {"action": "disable", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason == "manual" and "staff" in endpoint.disabled_detail
    staff_client.post("/admin/webhooks/webhookendpoint/", {"action": "enable", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_reason == ""


@pytest.mark.django_db
def test_admin_redeliver_action_starts_a_new_series(staff_client, user, private_ok, receiver, run_tasks):
    endpoint = services.webhook_endpoint_create(owner=user, url=receiver.url)
    delivery = services.webhook_endpoint_send_test(endpoint=endpoint)
    run_tasks()
    staff_client.post("/admin/webhooks/webhookdelivery/", {"action": "redeliver", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert (delivery.state, delivery.series) == ("queued", 2)
    run_tasks()
    assert len(receiver.requests) == 2
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempt_log.count() == 2


@pytest.mark.django_db
def test_admin_cannot_add_endpoints_that_would_skip_the_url_guard(staff_client):
    assert staff_client.get("/admin/webhooks/webhookendpoint/add/").status_code == 403
    assert not WebhookEndpoint.objects.exists()
