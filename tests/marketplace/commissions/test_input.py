"""Bad input is a 400 (or 413) problem+json and changes nothing: hostile reference and delivery images,
fields a client must not set, impossible money and dates."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.commissions.models import Commission, CommissionReference, Delivery, Offer
from marketplace.subscriptions.models import Payment
from tests.marketplace.commissions.helpers import (
    SVG,
    accept,
    deliver,
    future,
    offer,
    png,
    png_bomb,
    post_brief,
    stored_files,
    upload,
)


def assert_invalid(response, *fields):
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    for field in fields:
        assert field in response.json()["errors"], response.json()


@pytest.mark.django_db
def test_an_svg_reference_is_400_and_nothing_is_stored(client_api, private_media):
    response = post_brief(client_api, references=[("ok.png", png()), ("evil.svg", SVG)])
    assert_invalid(response, "references")
    assert response.json()["code"] == "invalid_image" and "SVG" in response.json()["detail"]
    assert not Commission.objects.exists() and not CommissionReference.objects.exists()
    assert stored_files(private_media) == []


@pytest.mark.django_db
def test_a_decompression_bomb_reference_is_400_and_nothing_is_stored(client_api, private_media):
    response = post_brief(client_api, references=[("bomb.png", png_bomb())])
    assert_invalid(response, "references")
    assert not Commission.objects.exists()
    assert stored_files(private_media) == []


@pytest.mark.django_db
def test_a_polyglot_reference_is_400(client_api):
    response = post_brief(client_api, references=[("poly.png", png() + b"<html><script>x</script></html>")])
    assert_invalid(response, "references")
    assert not Commission.objects.exists()


@pytest.mark.django_db
def test_too_many_references_is_400(client_api, settings):
    settings.COMMISSION_MAX_REFERENCES = 2
    response = post_brief(client_api, references=[(f"{i}.png", png((i, i, i))) for i in range(3)])
    assert_invalid(response, "references")
    assert not Commission.objects.exists()


@pytest.mark.django_db
def test_references_are_stored_re_encoded_and_private(client_api, private_media):
    import io

    from PIL import Image

    jpeg = io.BytesIO()
    Image.new("RGB", (20, 10), (30, 60, 90)).save(jpeg, format="JPEG")
    brief = post_brief(client_api, references=[("a.jpg", jpeg.getvalue())]).json()  # comes back as our own PNG
    files = stored_files(private_media)
    assert len(files) == 1 and files[0].read_bytes().startswith(b"\x89PNG")
    assert str(private_media) not in brief["references"][0]["url"]
    assert brief["references"][0]["url"].endswith(f"/api/v1/commissions/{brief['id']}/references/0")


@pytest.mark.django_db
def test_an_svg_delivery_is_400_and_nothing_is_stored(artist_client, awarded, private_media):
    before = stored_files(private_media)
    files = [upload("ok.png", png()), upload("evil.svg", SVG)]
    response = artist_client.post(
        f"/api/v1/commissions/{awarded['id']}/deliveries", {"images": files}, format="multipart"
    )
    assert_invalid(response, "images")
    assert not Delivery.objects.exists() and Commission.objects.get().state == "awarded"
    assert stored_files(private_media) == before


@pytest.mark.django_db
def test_a_delivery_without_images_is_400(artist_client, awarded):
    response = artist_client.post(f"/api/v1/commissions/{awarded['id']}/deliveries", {"note": "x"}, format="multipart")
    assert_invalid(response, "images")
    assert not Delivery.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value",
    [
        ("state", "completed"),
        ("client", "00000000-0000-0000-0000-000000000001"),
        ("artist", "00000000-0000-0000-0000-000000000002"),
        ("price", 1),
        ("payment", "x"),
        ("revisions_used", 0),
    ],
)
def test_a_brief_cannot_set_fields_the_platform_owns(client_api, field, value):
    response = post_brief(client_api, **{field: value})
    assert_invalid(response, field)
    assert not Commission.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value",
    [
        ("state", "accepted"),
        ("artist", "00000000-0000-0000-0000-000000000002"),
        ("currency", "EUR"),
        ("commission", "x"),
    ],
)
def test_an_offer_cannot_set_fields_the_platform_owns(artist_client, brief, field, value):
    assert_invalid(offer(artist_client, brief["id"], **{field: value}), field)
    assert not Offer.objects.exists()


@pytest.mark.django_db
def test_accepting_with_a_price_of_ones_own_is_400_and_nothing_changes(client_api, artist_client, brief):
    sent = offer(artist_client, brief["id"]).json()
    response = client_api.post(
        f"/api/v1/commission-offers/{sent['id']}/accept",
        {"payment_method": "tok_visa", "price": 1, "amount": 1},
        format="json",
    )
    assert_invalid(response, "price", "amount")
    assert Commission.objects.get().state == "open" and not Payment.objects.exists()


@pytest.mark.django_db
def test_a_delivery_cannot_set_its_state_or_commission(artist_client, awarded):
    files = [upload("ok.png", png())]
    response = artist_client.post(
        f"/api/v1/commissions/{awarded['id']}/deliveries", {"images": files, "state": "accepted"}, format="multipart"
    )
    assert_invalid(response, "state")
    assert not Delivery.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields,bad",
    [
        ({"budget": 0}, "budget"),
        ({"budget": -5}, "budget"),
        ({"budget": 12.5}, "budget"),
        ({"budget": True}, "budget"),
        ({"budget": 10**12}, "budget"),
        ({"currency": "US"}, "currency"),
        ({"currency": "U$D"}, "currency"),
        ({"deadline": "2001-01-01T00:00:00Z"}, "deadline"),
        ({"deadline": "tomorrow"}, "deadline"),
        ({"description": ""}, "description"),
        ({"target_artist": "00000000-0000-0000-0000-000000000009"}, "target_artist"),
        ({"target_model": "00000000-0000-0000-0000-000000000009"}, "target_model"),
    ],
)
def test_impossible_briefs_are_400(client_api, fields, bad):
    assert_invalid(post_brief(client_api, **fields), bad)
    assert not Commission.objects.exists()


@pytest.mark.django_db
def test_a_brief_cannot_target_a_buyer_or_oneself(client_api, client_user, make_user):
    buyer = make_user(role="buyer")
    assert_invalid(post_brief(client_api, target_artist=str(buyer.public_id)), "target_artist")
    assert_invalid(post_brief(client_api, target_artist=str(client_user.public_id)), "target_artist")


@pytest.mark.django_db
def test_a_deadline_without_an_offset_is_read_as_utc(client_api):
    naive = (timezone.now() + timedelta(days=2)).replace(tzinfo=None, microsecond=0)
    body = post_brief(client_api, deadline=naive.isoformat()).json()
    assert body["deadline"] == naive.isoformat() + "Z"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields,bad",
    [
        ({"delivery_by": "2001-01-01T00:00:00Z"}, "delivery_by"),
        ({"price": 0}, "price"),
        ({"revisions": 11}, "revisions"),
        ({"revisions": -1}, "revisions"),
    ],
)
def test_impossible_offers_are_400(artist_client, brief, fields, bad):
    assert_invalid(offer(artist_client, brief["id"], **fields), bad)
    assert not Offer.objects.exists()


@pytest.mark.django_db
def test_an_offer_must_promise_delivery_by_the_deadline(artist_client, brief):
    assert_invalid(offer(artist_client, brief["id"], delivery_by=future(days=11)), "delivery_by")
    assert not Offer.objects.exists()


@pytest.mark.django_db
def test_offers_default_to_two_revisions(client_api, artist_client, brief):
    sent = offer(artist_client, brief["id"]).json()
    assert sent["revisions"] == 2
    assert accept(client_api, sent["id"]).json()["revisions_allowed"] == 2


@pytest.mark.django_db
def test_a_revision_request_needs_a_note(client_api, artist_client, awarded):
    delivery = deliver(artist_client, awarded["id"]).json()
    response = client_api.post(f"/api/v1/commission-deliveries/{delivery['id']}/request-revision", {}, format="json")
    assert_invalid(response, "note")
    assert Commission.objects.get().state == "delivered"
