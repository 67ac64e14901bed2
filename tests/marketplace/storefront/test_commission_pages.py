"""Commission pages through Django's test client: a client posts a brief with references, an artist offers, the
client pays (a declined card first), the artist delivers (an upload, then from a model), the client asks for a
revision and accepts; bad input re-renders with field errors and keeps what was typed; strangers get 404s."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from marketplace.commissions.models import Commission, CommissionState, Delivery, Offer
from tests.marketplace.commissions.helpers import SVG, png
from tests.marketplace.storefront import studio_helpers
from tests.marketplace.storefront.studio_helpers import field_errors, form_errors, html_of, input_value, page_client

studio_media, tiny_onnx, tiny_model = studio_helpers.studio_media, studio_helpers.tiny_onnx, studio_helpers.tiny_model


def local(when) -> str:
    return when.strftime("%Y-%m-%dT%H:%M")


def brief_form(**changes) -> dict:
    return {
        "title": "A fox",
        "description": "A red fox in the snow, watercolour.",
        "style": "watercolour",
        "budget": "50.00",
        "currency": "USD",
        "deadline": local(timezone.now() + timedelta(days=10)),
    } | changes


@pytest.fixture
def people(make_user, studio_media):
    client_user, artist = make_user(role="buyer"), make_user(role="artist", display_name="Vera")
    return {
        "client": client_user,
        "artist": artist,
        "as_client": page_client(client_user),
        "as_artist": page_client(artist),
    }


def post_brief(as_client, **changes) -> Commission:
    references = [SimpleUploadedFile("ref.png", png(color=(200, 30, 90)))]
    response = as_client.post("/commissions/new", brief_form(**changes) | {"references": references})
    assert response.status_code == 302, form_errors(html_of(response))
    commission = Commission.objects.latest("id")
    assert response["Location"] == f"/commissions/{commission.public_id}/"
    return commission


def send_offer(as_artist, commission, **changes) -> Offer:
    body = {
        "price": "45.00",
        "delivery_by": local(timezone.now() + timedelta(days=5)),
        "revisions": "1",
        "message": "I can do this.",
    } | changes
    response = as_artist.post(f"/commissions/{commission.public_id}/offer", body)
    assert response.status_code == 302, form_errors(html_of(response))
    return Offer.objects.get(commission=commission, artist__isnull=False, state="pending")


@pytest.mark.django_db
def test_a_commission_from_brief_to_completion_through_the_pages(people):
    as_client, as_artist = people["as_client"], people["as_artist"]
    commission = post_brief(as_client)
    assert commission.budget == 5000 and commission.references.count() == 1
    page = html_of(as_client.get(f"/commissions/{commission.public_id}/"))
    assert f"/api/v1/commissions/{commission.public_id}/references/0" in page and "50.00 USD" in page
    assert as_client.get(f"/api/v1/commissions/{commission.public_id}/references/0").status_code == 200

    briefs = html_of(as_artist.get("/commissions/briefs"))
    assert f"/commissions/{commission.public_id}/" in briefs
    assert 'id="offer-form"' in html_of(as_artist.get(f"/commissions/{commission.public_id}/"))
    offer = send_offer(as_artist, commission)
    assert offer.price == 4500 and offer.revisions == 1
    assert 'id="offer-form"' not in html_of(as_artist.get(f"/commissions/{commission.public_id}/"))

    page = html_of(as_client.get(f"/commissions/{commission.public_id}/"))
    assert "Vera" in page and "45.00 USD" in page and f"/commissions/offers/{offer.public_id}/accept" in page
    declined = as_client.post(f"/commissions/offers/{offer.public_id}/accept", {"payment_method": "tok_card_declined"})
    assert declined.status_code == 402 and "Your card was declined." in html_of(declined)
    assert "Choose another card and try again." in html_of(declined)
    commission.refresh_from_db()
    assert commission.state == CommissionState.OPEN  # the brief stays open: pay again with another card
    paid = as_client.post(f"/commissions/offers/{offer.public_id}/accept", {"payment_method": "tok_visa"})
    assert paid.status_code == 302
    commission.refresh_from_db()
    assert commission.state == CommissionState.AWARDED and commission.price == 4500

    page = html_of(as_artist.get(f"/commissions/{commission.public_id}/"))
    assert 'id="deliver-upload-form"' in page and "You are paid" in page
    empty = as_artist.post(f"/commissions/{commission.public_id}/deliver/upload", {"note": "Here it is"})
    assert empty.status_code == 400 and field_errors(html_of(empty), "images")
    assert input_value(html_of(empty), "note") == "Here it is"
    delivered = as_artist.post(
        f"/commissions/{commission.public_id}/deliver/upload",
        {"images": [SimpleUploadedFile("fox.png", png(color=(10, 30, 90)))], "note": "First go"},
    )
    assert delivered.status_code == 302
    first = Delivery.objects.get(commission=commission)

    page = html_of(as_client.get(f"/commissions/{commission.public_id}/"))
    assert f"/api/v1/commission-deliveries/{first.public_id}/images/0" in page
    assert 'id="accept-delivery-form"' in page and 'id="revision-form"' in page
    no_note = as_client.post(f"/commissions/deliveries/{first.public_id}/revision", {"note": ""})
    assert no_note.status_code == 400 and field_errors(html_of(no_note), "note")
    assert (
        as_client.post(
            f"/commissions/deliveries/{first.public_id}/revision", {"note": "More snow, please."}
        ).status_code
        == 302
    )
    commission.refresh_from_db()
    assert commission.state == CommissionState.REVISION_REQUESTED and commission.revisions_used == 1

    as_artist.post(
        f"/commissions/{commission.public_id}/deliver/upload",
        {"images": [SimpleUploadedFile("fox2.png", png(color=(250, 250, 250)))], "note": "Snowier"},
    )
    second = Delivery.objects.get(commission=commission, number=2)
    page = html_of(as_client.get(f"/commissions/{commission.public_id}/"))
    assert 'id="revision-form"' not in page and "All included revisions are used." in page
    assert as_client.post(f"/commissions/deliveries/{second.public_id}/accept", {"note": "Lovely"}).status_code == 302
    commission.refresh_from_db()
    assert commission.state == CommissionState.COMPLETED
    history = html_of(as_artist.get(f"/commissions/{commission.public_id}/"))
    assert "Accept delivery" in history and "“Lovely”" in history


@pytest.mark.django_db
def test_a_bad_brief_rerenders_with_its_errors_and_keeps_what_was_typed(people):
    as_client = people["as_client"]
    response = as_client.post("/commissions/new", brief_form(budget="fifty", description="A very particular fox"))
    assert response.status_code == 400
    html = html_of(response)
    assert field_errors(html, "budget") and input_value(html, "description") == "A very particular fox"
    past = as_client.post("/commissions/new", brief_form(deadline=local(timezone.now() - timedelta(days=1))))
    assert past.status_code == 400 and field_errors(html_of(past), "deadline")
    hostile = as_client.post("/commissions/new", brief_form() | {"references": [SimpleUploadedFile("x.svg", SVG)]})
    assert hostile.status_code == 400 and "x.svg" in " ".join(field_errors(html_of(hostile), "references"))
    assert input_value(html_of(hostile), "title") == "A fox"
    assert not Commission.objects.exists()


@pytest.mark.django_db
def test_a_bad_offer_is_shown_on_its_fields(people):
    commission = post_brief(people["as_client"], deadline=local(timezone.now() + timedelta(days=3)))
    url = f"/commissions/{commission.public_id}/offer"
    late = people["as_artist"].post(
        url,
        {"price": "45", "revisions": "1", "message": "Soon", "delivery_by": local(timezone.now() + timedelta(days=30))},
    )
    assert late.status_code == 400 and any(
        "deadline" in message for message in field_errors(html_of(late), "delivery_by")
    )
    assert input_value(html_of(late), "message") == "Soon"
    too_many = people["as_artist"].post(
        url, {"price": "45", "revisions": "99", "delivery_by": local(timezone.now() + timedelta(days=1))}
    )
    assert too_many.status_code == 400 and field_errors(html_of(too_many), "revisions")
    assert not Offer.objects.exists()


@pytest.mark.django_db
def test_a_client_cannot_offer_on_their_own_brief_and_a_buyer_sees_no_open_briefs(people, make_user):
    commission = post_brief(people["as_client"])
    page = html_of(people["as_client"].get(f"/commissions/{commission.public_id}/"))
    assert 'id="offer-form"' not in page
    forged = people["as_client"].post(
        f"/commissions/{commission.public_id}/offer",
        {"price": "45", "revisions": "1", "delivery_by": local(timezone.now() + timedelta(days=1))},
    )
    assert forged.status_code == 403
    assert "Only artists send offers" in html_of(page_client(make_user(role="buyer")).get("/commissions/briefs"))
    assert not Offer.objects.exists()


@pytest.mark.django_db
def test_strangers_get_404_and_visitors_are_sent_to_sign_in(people, make_user, client):
    commission = post_brief(people["as_client"])
    offer = send_offer(people["as_artist"], commission)
    stranger = page_client(make_user(role="buyer"))
    for path in (f"/commissions/{commission.public_id}/", f"/commissions/{commission.public_id}/deliveries"):
        assert stranger.get(path).status_code == 404
    assert (
        stranger.post(f"/commissions/offers/{offer.public_id}/accept", {"payment_method": "tok_visa"}).status_code
        == 404
    )
    assert stranger.post(f"/commissions/{commission.public_id}/cancel").status_code == 404
    response = client.get(f"/commissions/{commission.public_id}/")
    assert response.status_code == 302 and "login" in response["Location"]
    commission.refresh_from_db()
    assert commission.state == CommissionState.OPEN


@pytest.mark.django_db
def test_delivering_from_a_model_polls_until_the_images_arrive(
    people, tiny_model, run_tasks, django_capture_on_commit_callbacks
):
    as_client, as_artist, artist = people["as_client"], people["as_artist"], people["artist"]
    model = tiny_model(artist)
    commission = post_brief(as_client)
    offer = send_offer(as_artist, commission)
    as_client.post(f"/commissions/offers/{offer.public_id}/accept", {"payment_method": "tok_visa"})
    page = html_of(as_artist.get(f"/commissions/{commission.public_id}/"))
    assert 'id="deliver-model-form"' in page and str(model.public_id) in page
    too_many = as_artist.post(
        f"/commissions/{commission.public_id}/deliver/model", {"model": str(model.public_id), "count": "999"}
    )
    assert too_many.status_code == 400 and field_errors(html_of(too_many), "count")
    response = as_artist.post(
        f"/commissions/{commission.public_id}/deliver/model",
        {"model": str(model.public_id), "count": "2", "seed": "7", "note": "From my model"},
    )
    assert response.status_code == 302
    partial_url = f"/commissions/{commission.public_id}/deliveries"
    partial = html_of(as_artist.get(partial_url))
    assert f'hx-get="{partial_url}"' in partial and 'data-generating="true"' in partial
    with django_capture_on_commit_callbacks(execute=True):  # the job's event reaches the delivery after commit
        run_tasks()
    partial = html_of(as_artist.get(partial_url))
    assert 'data-generating="false"' in partial and "hx-get" not in partial
    delivery = Delivery.objects.get(commission=commission)
    assert delivery.state == "delivered" and delivery.images.count() == 2
    assert f"/api/v1/commission-deliveries/{delivery.public_id}/images/1" in partial


@pytest.mark.django_db
def test_the_client_cancels_an_open_brief_and_the_page_stops_offering_it(people):
    commission = post_brief(people["as_client"])
    assert (
        people["as_client"].post(f"/commissions/{commission.public_id}/cancel", {"note": "Changed my mind"}).status_code
        == 302
    )
    commission.refresh_from_db()
    assert commission.state == CommissionState.CANCELLED
    page = html_of(people["as_client"].get(f"/commissions/{commission.public_id}/"))
    assert 'id="cancel-form"' not in page
    again = people["as_client"].post(f"/commissions/{commission.public_id}/cancel", {"note": ""})
    assert again.status_code == 409 and "cancelled" in html_of(again)


def _queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_commission_lists_run_a_constant_number_of_queries_as_they_grow(people):
    as_client, as_artist = people["as_client"], people["as_artist"]

    def add(count: int) -> None:
        for _ in range(count):
            send_offer(as_artist, post_brief(as_client))

    pages = [(as_client, "/commissions/"), (as_artist, "/commissions/"), (as_artist, "/commissions/briefs")]
    add(2)
    few = [_queries(client, path) for client, path in pages]
    add(4)
    assert [_queries(client, path) for client, path in pages] == few


@pytest.mark.django_db
def test_accepting_with_a_card_that_needs_authentication_goes_through_the_bank_step(
    people, django_capture_on_commit_callbacks
):
    as_client, as_artist = people["as_client"], people["as_artist"]
    commission = post_brief(as_client)
    offer = send_offer(as_artist, commission)
    step = as_client.post(f"/commissions/offers/{offer.public_id}/accept", {"payment_method": "tok_requires_action"})
    assert step.status_code == 302 and step["Location"].endswith("/authenticate")
    commission.refresh_from_db()
    assert commission.state == CommissionState.PAYMENT_PENDING
    page = html_of(as_client.get(f"/commissions/{commission.public_id}/"))
    assert "Confirm with your bank" in page and step["Location"] in page
    with django_capture_on_commit_callbacks(execute=True):
        back = as_client.post(step["Location"], {"outcome": "authenticate"})
    assert back["Location"] == f"/commissions/{commission.public_id}/"
    commission.refresh_from_db()
    assert commission.state == CommissionState.AWARDED
    assert "Confirm with your bank" not in html_of(as_client.get(back["Location"]))
