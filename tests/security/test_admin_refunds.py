"""Finding 11 (admin): a refund from the payment admin cannot leave a licence active and the artist credited
(order and commission payments are refunded through their own services), and money-moving admin actions
honour Django's model permissions rather than "any staff user"."""

import pytest
from django.test import Client

from marketplace.accounts.models import User
from marketplace.gallery.models import LicenceGrant, Order
from marketplace.subscriptions.models import Payment
from tests.marketplace.gallery import conftest as gallery
from tests.marketplace.gallery.helpers import buy

gallery_media, make_artwork, make_listing = gallery.gallery_media, gallery.make_artwork, gallery.make_listing


@pytest.fixture
def sold(user_client, make_artwork, make_listing):
    artwork = make_artwork(95, title="Admin refund")
    return buy(user_client, make_listing(artwork["id"])["id"]).json()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_payment_admin_does_not_refund_an_order_payment_behind_the_orders_back(make_user, sold):
    payment = Payment.objects.get(public_id=sold["payment"]["id"])
    response = signed_in(make_user(role="staff")).post(
        "/admin/subscriptions/payment/", {"action": "refund", "_selected_action": [payment.pk]}, follow=True
    )
    assert response.status_code == 200 and "which also revokes what it bought" in response.content.decode()
    payment.refresh_from_db()
    assert payment.state == "succeeded"
    assert LicenceGrant.objects.get(order__public_id=sold["id"]).state == "active"


@pytest.mark.django_db
def test_staff_without_the_change_permission_cannot_refund_orders(sold):
    clerk = User.objects.create_user(email="clerk@example.com", password="x" * 12, role="staff", is_staff=True)
    pk = Order.objects.get(public_id=sold["id"]).pk
    signed_in(clerk).post("/admin/gallery/order/", {"action": "refund", "_selected_action": [pk]}, follow=True)
    assert Order.objects.get(pk=pk).state == "fulfilled"
    assert Payment.objects.get(public_id=sold["payment"]["id"]).state == "succeeded"
