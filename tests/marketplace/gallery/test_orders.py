import hashlib
from datetime import timedelta

import pytest

from core.models import DomainEvent
from marketplace.gallery.models import Artwork, LicenceGrant, Listing, Order, OrderEvent
from marketplace.gallery.services import orders_expire_stale, platform_fee
from marketplace.subscriptions.models import LedgerEntry, Payment
from marketplace.subscriptions.selectors import ledger_balance
from marketplace.subscriptions.services import payment_complete_test_action
from provenance.credentials.c2pa_manifests import strip_manifest
from provenance.selectors import owner_history, record_by_sha256
from tests.marketplace.gallery.helpers import buy


def download(client, artwork_id: str):
    link = client.post(f"/api/v1/artworks/{artwork_id}/download-url")
    if link.status_code != 200:
        return link
    return client.get(link.json()["url"].removeprefix("http://testserver"))


@pytest.fixture
def for_sale(make_artwork, make_listing):
    """A published artwork with a personal licence at 20.00 USD."""
    artwork = make_artwork(40)
    return artwork, make_listing(artwork["id"], price=2_000)


@pytest.mark.django_db
def test_an_order_is_paid_fulfilled_licensed_credited_and_downloadable(user_client, user, artist, for_sale):
    artwork, listing = for_sale
    response = buy(user_client, listing["id"], key="order-1")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "fulfilled" and body["amount"] == 2_000 and body["currency"] == "USD"
    assert body["payment"]["state"] == "succeeded" and body["licence"]
    order = Order.objects.get(public_id=body["id"])
    assert (order.platform_fee, order.artist_amount) == (200, 1_800) == (platform_fee(2_000), 2_000 - 200)
    assert [(e.from_state, e.to_state, e.actor_id) for e in OrderEvent.objects.filter(order=order)] == [
        ("", "pending", user.pk),
        ("pending", "paid", user.pk),
        ("paid", "fulfilled", None),
    ]
    grant = LicenceGrant.objects.get(order=order)
    assert (grant.holder, grant.licence_type, grant.state) == (user, "personal", "active")
    assert ledger_balance(user=artist) == {"USD": 1_800}
    buyer_events = list(DomainEvent.objects.filter(user=user, type__startswith="order.").values_list("type", flat=True))
    assert sorted(buyer_events) == ["order.created", "order.fulfilled", "order.paid"]
    assert DomainEvent.objects.filter(user=artist, type="sale.completed").count() == 1
    stored = Artwork.objects.get(public_id=artwork["id"])
    assert (stored.sales_count, stored.popularity) == (1, 25)

    file = download(user_client, artwork["id"])
    assert file.status_code == 200 and file["Content-Disposition"].startswith("attachment")
    # delivered with Content Credentials, which alone set it apart from the registered bytes
    assert hashlib.sha256(strip_manifest(b"".join(file.streaming_content))).hexdigest() == artwork["content_sha256"]
    assert user_client.get("/api/v1/licences").json()["results"][0]["artwork"] == artwork["id"]
    assert user_client.get("/api/v1/orders").json()["results"][0]["id"] == body["id"]


@pytest.mark.django_db
def test_order_creation_is_idempotent(user_client, user, for_sale):
    _, listing = for_sale
    first = buy(user_client, listing["id"], key="same-key")
    again = buy(user_client, listing["id"], key="same-key")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1 and Payment.objects.filter(payer=user).count() == 1


@pytest.mark.django_db
def test_a_second_order_for_a_licence_already_held_is_409(user_client, for_sale):
    _, listing = for_sale
    first = buy(user_client, listing["id"]).json()
    again = buy(user_client, listing["id"])
    assert again.status_code == 409 and again.json()["code"] == "already_ordered"
    assert again.json()["order"] == first["id"] and Order.objects.count() == 1


@pytest.mark.django_db
def test_paying_twice_is_409(user_client, user, for_sale):
    _, listing = for_sale
    order = buy(user_client, listing["id"]).json()
    again = user_client.post(f"/api/v1/orders/{order['id']}/pay", {"payment_method": "tok_visa"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition" and again.json()["state"] == "fulfilled"
    assert Payment.objects.filter(payer=user).count() == 1


@pytest.mark.django_db
def test_buying_your_own_artwork_is_400(artist_client, for_sale):
    _, listing = for_sale
    response = buy(artist_client, listing["id"])
    assert response.status_code == 400 and response.json()["code"] == "own_artwork"
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("amount", 1),
        ("state", "fulfilled"),
        ("buyer", "x"),
        ("price_paid", 1),
        ("artist_amount", 0),
        ("licence_type", "exclusive"),
    ],
)
@pytest.mark.django_db
def test_writable_field_abuse_on_orders_is_400_and_writes_nothing(user_client, for_sale, field, value):
    _, listing = for_sale
    response = user_client.post(
        "/api/v1/orders", {"listing": listing["id"], "payment_method": "tok_visa", field: value}, format="json"
    )
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not Order.objects.exists() and not Payment.objects.exists()


@pytest.mark.django_db
def test_a_declined_payment_is_402_and_the_order_can_be_paid_again(user_client, user, artist, for_sale):
    _, listing = for_sale
    declined = buy(user_client, listing["id"], payment_method="tok_card_declined")
    assert declined.status_code == 402 and declined.json()["code"] == "payment_declined"
    order = Order.objects.get(public_id=declined.json()["order"])
    assert order.state == "pending" and not LicenceGrant.objects.exists() and ledger_balance(user=artist) == {}
    paid = user_client.post(f"/api/v1/orders/{order.public_id}/pay", {"payment_method": "tok_visa"}, format="json")
    assert paid.status_code == 200 and paid.json()["state"] == "fulfilled"


@pytest.mark.django_db
def test_an_asynchronous_payment_fulfils_the_order_when_it_succeeds(
    user_client, user, for_sale, django_capture_on_commit_callbacks
):
    _, listing = for_sale
    response = buy(user_client, listing["id"], payment_method="tok_requires_action")
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "pending" and body["payment"]["state"] == "requires_action"
    assert body["payment"]["client_secret"]
    assert user_client.get(f"/api/v1/orders/{body['id']}").json()["state"] == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        payment_complete_test_action(payment=Payment.objects.get(public_id=body["payment"]["id"]))
    assert user_client.get(f"/api/v1/orders/{body['id']}").json()["state"] == "fulfilled"
    assert LicenceGrant.objects.filter(holder=user, state="active").count() == 1


@pytest.mark.django_db
def test_a_payment_landing_on_a_cancelled_order_is_refunded(
    user_client, user, for_sale, run_tasks, django_capture_on_commit_callbacks
):
    _, listing = for_sale
    body = buy(user_client, listing["id"], payment_method="tok_requires_action").json()
    cancelled = user_client.post(f"/api/v1/orders/{body['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    payment = Payment.objects.get(public_id=body["payment"]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        payment_complete_test_action(payment=payment)
    run_tasks()
    payment.refresh_from_db()
    assert payment.state == "refunded" and payment.amount_refunded == 2_000
    assert Order.objects.get(public_id=body["id"]).state == "cancelled" and not LicenceGrant.objects.exists()


@pytest.mark.django_db
def test_staff_refund_returns_the_money_revokes_the_licence_and_claws_back_the_credit(
    user_client, user, artist, make_user, client_for, for_sale
):
    artwork, listing = for_sale
    order = buy(user_client, listing["id"]).json()
    assert user_client.post(f"/api/v1/orders/{order['id']}/refund").status_code == 403  # buyers cannot
    staff = make_user(role="staff")
    response = client_for(staff).post(
        f"/api/v1/orders/{order['id']}/refund", {"reason": "duplicate purchase"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "refunded"
    assert Payment.objects.get(public_id=order["payment"]["id"]).state == "refunded"
    assert LicenceGrant.objects.get(order__public_id=order["id"]).state == "revoked"
    assert ledger_balance(user=artist) == {"USD": 0}
    assert OrderEvent.objects.filter(order__public_id=order["id"], to_state="refunded", actor=staff).exists()
    assert DomainEvent.objects.filter(user=user, type="order.refunded").count() == 1
    assert download(user_client, artwork["id"]).status_code == 403
    again = client_for(staff).post(f"/api/v1/orders/{order['id']}/refund")
    assert again.status_code == 409 and again.json()["state"] == "refunded"


@pytest.mark.django_db
def test_cancelling_a_pending_order_and_invalid_order_actions_are_409(user_client, user, for_sale):
    _, listing = for_sale
    order = buy(user_client, listing["id"], payment_method=None).json()
    assert order["state"] == "pending"
    assert user_client.post(f"/api/v1/orders/{order['id']}/cancel").json()["state"] == "cancelled"
    for action, body in (("cancel", None), ("pay", {"payment_method": "tok_visa"})):
        response = user_client.post(f"/api/v1/orders/{order['id']}/{action}", body, format="json")
        assert response.status_code == 409 and response.json()["state"] == "cancelled"
    assert DomainEvent.objects.filter(user=user, type="order.cancelled").count() == 1


@pytest.mark.django_db
def test_another_users_order_is_404(client_for, make_user, user_client, for_sale):
    _, listing = for_sale
    order = buy(user_client, listing["id"], payment_method=None).json()
    other = client_for(make_user())
    assert other.get(f"/api/v1/orders/{order['id']}").status_code == 404
    assert (
        other.post(f"/api/v1/orders/{order['id']}/pay", {"payment_method": "tok_visa"}, format="json").status_code
        == 404
    )
    assert other.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 404
    assert Order.objects.get(public_id=order["id"]).state == "pending"


@pytest.mark.django_db
def test_a_closed_listing_cannot_be_ordered(user_client, artist_client, for_sale):
    _, listing = for_sale
    artist_client.post(f"/api/v1/listings/{listing['id']}/close")
    response = buy(user_client, listing["id"])
    assert response.status_code == 409 and response.json()["code"] == "listing_closed"


@pytest.mark.django_db
def test_the_artist_sees_sales_with_the_split(artist_client, user_client, for_sale):
    _, listing = for_sale
    buy(user_client, listing["id"])
    sale = artist_client.get("/api/v1/sales").json()["results"][0]
    assert (sale["amount"], sale["platform_fee"], sale["artist_amount"]) == (2_000, 200, 1_800)


# --- exclusive licences -------------------------------------------------------------------------------------


@pytest.fixture
def exclusive(artist, on_pro_plan, make_artwork, make_listing):
    on_pro_plan(artist)
    artwork = make_artwork(41)
    personal = make_listing(artwork["id"], price=1_000)
    return artwork, make_listing(artwork["id"], licence_type="exclusive", price=100_000), personal


@pytest.mark.django_db
def test_an_exclusive_licence_sells_once_and_moves_ownership_through_provenance(
    client_for, make_user, artist, exclusive
):
    artwork, listing, personal = exclusive
    first, second = make_user(), make_user()
    sold = buy(client_for(first), listing["id"])
    assert sold.status_code == 201 and sold.json()["state"] == "fulfilled"
    late = buy(client_for(second), listing["id"])
    assert late.status_code == 409 and late.json()["code"] == "listing_closed"
    assert buy(client_for(second), personal["id"]).status_code == 409  # every listing of the work closed
    assert set(Listing.objects.values_list("state", "close_reason")) == {("closed", "exclusive_sold")}
    stored = Artwork.objects.get(public_id=artwork["id"])
    assert stored.owner == first and stored.min_price is None and not stored.offers_exclusive
    record = record_by_sha256(sha256=artwork["content_sha256"])
    assert record.owner == f"accounts.user:{first.public_id}"
    assert [(entry["kind"], entry["from_ref"], entry["to_ref"]) for entry in owner_history(record=record)] == [
        ("registered", None, f"accounts.user:{artist.public_id}"),
        ("transfer", f"accounts.user:{artist.public_id}", f"accounts.user:{first.public_id}"),
    ]
    assert ledger_balance(user=artist) == {"USD": 90_000}
    memo = LedgerEntry.objects.get(user=artist).memo
    assert memo.startswith("Sale of an exclusive licence for "), memo


@pytest.mark.django_db
def test_refunding_a_fulfilled_exclusive_is_409_and_changes_nothing(client_for, make_user, exclusive):
    _, listing, _ = exclusive
    buyer = make_user()
    order = buy(client_for(buyer), listing["id"]).json()
    response = client_for(make_user(role="staff")).post(f"/api/v1/orders/{order['id']}/refund")
    assert response.status_code == 409 and response.json()["code"] == "exclusive_not_refundable"
    assert Order.objects.get(public_id=order["id"]).state == "fulfilled"
    assert Payment.objects.get(public_id=order["payment"]["id"]).state == "succeeded"
    assert LicenceGrant.objects.get(order__public_id=order["id"]).state == "active"


@pytest.mark.django_db
def test_an_unpaid_exclusive_order_reserves_nothing_and_the_first_payment_wins(client_for, make_user, exclusive):
    _, listing, _ = exclusive
    first, second = client_for(make_user()), client_for(make_user())
    unpaid = buy(first, listing["id"], payment_method=None).json()
    taken = buy(second, listing["id"])
    assert taken.status_code == 201 and taken.json()["state"] == "fulfilled"
    assert Order.objects.get(public_id=unpaid["id"]).state == "cancelled"
    late = first.post(f"/api/v1/orders/{unpaid['id']}/pay", {"payment_method": "tok_visa"}, format="json")
    assert late.status_code == 409 and Payment.objects.filter(purpose="order").count() == 1


@pytest.mark.django_db
def test_ordering_again_after_a_decline_returns_the_same_order_and_pays_it(user_client, user, for_sale):
    _, listing = for_sale
    declined = buy(user_client, listing["id"], payment_method="tok_card_declined")
    assert declined.status_code == 402
    again = buy(user_client, listing["id"], payment_method="tok_visa")
    assert again.status_code == 200, again.json()
    assert again.json()["id"] == declined.json()["order"] and again.json()["state"] == "fulfilled"
    assert Order.objects.count() == 1
    assert sorted(Payment.objects.filter(payer=user).values_list("state", flat=True)) == ["failed", "succeeded"]


@pytest.mark.django_db
def test_ordering_again_replaces_a_stale_or_repriced_unpaid_order(user_client, artist_client, settings, for_sale):
    _, listing = for_sale
    first = buy(user_client, listing["id"], payment_method=None).json()
    assert buy(user_client, listing["id"], payment_method=None).json()["id"] == first["id"]
    artist_client.patch(f"/api/v1/listings/{listing['id']}", {"price": 2_500}, format="json")
    repriced = buy(user_client, listing["id"], payment_method=None)
    assert repriced.status_code == 201 and repriced.json()["amount"] == 2_500
    settings.GALLERY_ORDER_PENDING_TIMEOUT = timedelta(0)
    fresh = buy(user_client, listing["id"], payment_method=None)
    assert fresh.status_code == 201 and fresh.json()["id"] != repriced.json()["id"]
    assert list(Order.objects.order_by("pk").values_list("state", flat=True)) == ["cancelled", "cancelled", "pending"]


@pytest.mark.django_db
def test_paying_again_with_another_card_replaces_an_attempt_awaiting_3ds(user_client, user, for_sale):
    _, listing = for_sale
    waiting = buy(user_client, listing["id"], payment_method="tok_requires_action").json()
    paid = user_client.post(f"/api/v1/orders/{waiting['id']}/pay", {"payment_method": "tok_visa"}, format="json")
    assert paid.status_code == 200 and paid.json()["state"] == "fulfilled"
    first = Payment.objects.get(public_id=waiting["payment"]["id"])
    assert (first.state, first.failure_code) == ("cancelled", "abandoned")


@pytest.mark.django_db
def test_an_exclusive_cannot_be_offered_or_sold_while_other_licences_are_held(
    user_client, artist_client, artist, on_pro_plan, make_artwork, make_listing
):
    on_pro_plan(artist)
    artwork = make_artwork(42)
    personal = make_listing(artwork["id"])
    buy(user_client, personal["id"])
    response = artist_client.post(
        f"/api/v1/artworks/{artwork['id']}/listings",
        {"licence_type": "exclusive", "price": 90_000, "currency": "USD"},
        format="json",
    )
    assert response.status_code == 409 and response.json()["code"] == "licences_outstanding"


@pytest.mark.django_db
def test_stale_unpaid_orders_expire(user_client, settings, for_sale):
    _, listing = for_sale
    order = buy(user_client, listing["id"], payment_method=None).json()
    assert orders_expire_stale() == 0
    settings.GALLERY_ORDER_PENDING_TIMEOUT = timedelta(0)
    assert orders_expire_stale() == 1
    assert Order.objects.get(public_id=order["id"]).state == "cancelled"
