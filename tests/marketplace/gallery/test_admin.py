import re

import pytest
from django.test import Client

from marketplace.gallery.models import Artwork, LicenceGrant, Order
from marketplace.subscriptions.models import Payment
from tests.marketplace.gallery.helpers import buy


@pytest.fixture
def staff_client(make_user) -> Client:
    client = Client()
    client.force_login(make_user(role="staff"))
    return client


@pytest.fixture
def sold(user_client, make_artwork, make_listing):
    artwork = make_artwork(95, title="Admin view")
    return artwork, buy(user_client, make_listing(artwork["id"])["id"]).json()


@pytest.mark.parametrize("model", ["artwork", "listing", "order", "licencegrant"])
@pytest.mark.django_db
def test_staff_browse_filter_and_search_every_gallery_table(staff_client, sold, model):
    assert staff_client.get(f"/admin/gallery/{model}/").status_code == 200
    assert staff_client.get(f"/admin/gallery/{model}/?q=admin").status_code == 200


@pytest.mark.django_db
def test_the_artwork_list_shows_a_preview_thumbnail_state_and_provenance(staff_client, sold):
    artwork, _ = sold
    page = staff_client.get("/admin/gallery/artwork/?state__exact=published&provenance_record__state=pending")
    html = page.content.decode()
    assert f'src="/api/v1/artworks/{artwork["id"]}/preview"' in html
    assert "pending" in html and "published" in html
    assert staff_client.get(f"/api/v1/artworks/{artwork['id']}/preview").status_code == 200


@pytest.mark.django_db
def test_the_order_page_shows_its_events_inline(staff_client, sold):
    _, order = sold
    pk = Order.objects.get(public_id=order["id"]).pk
    html = staff_client.get(f"/admin/gallery/order/{pk}/change/").content.decode()
    assert "fulfilled" in html and "pending" in html and "order event" in html.lower()


@pytest.mark.django_db
def test_the_refund_action_refunds_through_the_services(staff_client, sold):
    _, order = sold
    pk = Order.objects.get(public_id=order["id"]).pk
    response = staff_client.post("/admin/gallery/order/", {"action": "refund", "_selected_action": [pk]}, follow=True)
    assert response.status_code == 200 and "refunded" in response.content.decode()
    assert Order.objects.get(pk=pk).state == "refunded"
    assert LicenceGrant.objects.get(order_id=pk).state == "revoked"
    assert Payment.objects.get(public_id=order["payment"]["id"]).state == "refunded"


def _change_form_post(client: Client, url: str, **values: str):
    """Post the admin change form as a browser would: its hidden inputs (inline management forms) plus values."""
    html = client.get(url).content.decode()
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    data.pop("csrfmiddlewaretoken", None)
    return client.post(url, {**data, **values})


@pytest.mark.django_db
def test_a_staff_edit_goes_through_the_service_so_search_and_browse_follow(staff_client, client, sold):
    artwork, _ = sold
    row = Artwork.objects.get(public_id=artwork["id"])
    url = f"/admin/gallery/artwork/{row.pk}/change/"
    form = staff_client.get(url).context["adminform"].form
    assert sorted(form.fields) == ["description", "style", "title"]
    state, owner, popularity = row.state, row.owner_id, row.popularity
    response = _change_form_post(
        staff_client,
        url,
        title="  Harbour   at dusk ",
        description="Moderated.",
        style="Oil Paint",
        state="draft",
        popularity="999",
        owner=str(row.artist_id + 1000),
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.title, row.style, row.description) == ("Harbour at dusk", "oil-paint", "Moderated.")
    assert "harbour at dusk" in row.search_text
    assert (row.state, row.owner_id, row.popularity) == (state, owner, popularity)
    found = client.get("/api/v1/artworks", {"q": "harbour"}).json()["results"]
    assert [(card["id"], card["title"], card["style"]) for card in found] == [
        (artwork["id"], "Harbour at dusk", "oil-paint")
    ]


@pytest.mark.django_db
def test_a_staff_edit_the_service_refuses_shows_field_errors_and_changes_nothing(staff_client, sold):
    artwork, _ = sold
    row = Artwork.objects.get(public_id=artwork["id"])
    before = (row.title, row.style, row.card, row.search_text)
    response = _change_form_post(
        staff_client, f"/admin/gallery/artwork/{row.pk}/change/", title="Kept", description="", style="no/slashes"
    )
    assert response.status_code == 200
    assert "single word or hyphenated slug" in response.content.decode()
    row.refresh_from_db()
    assert (row.title, row.style, row.card, row.search_text) == before
