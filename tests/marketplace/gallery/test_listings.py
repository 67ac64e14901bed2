import pytest

from marketplace.gallery.models import Artwork, Listing


def listing_url(artwork_id: str) -> str:
    return f"/api/v1/artworks/{artwork_id}/listings"


def offer(client, artwork_id: str, **fields):
    body = {"licence_type": "personal", "price": 2_500, "currency": "USD"} | fields
    return client.post(listing_url(artwork_id), body, format="json")


@pytest.mark.django_db
def test_a_personal_listing_prices_the_artwork_for_browse(artist_client, api, make_artwork):
    artwork = make_artwork(30)
    response = offer(artist_client, artwork["id"], price=2_500, currency="eur")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["licence_type"], body["price"], body["currency"], body["state"]) == (
        "personal",
        2_500,
        "EUR",
        "active",
    )
    detail = api.get(f"/api/v1/artworks/{artwork['id']}").json()
    assert detail["price"] == {"amount": 2_500, "currency": "EUR"} and detail["licence_types"] == ["personal"]
    assert [item["id"] for item in detail["listings"]] == [body["id"]]
    card = api.get("/api/v1/artworks").json()["results"][0]
    assert card["price"] == {"amount": 2_500, "currency": "EUR"} and card["licence_types"] == ["personal"]


@pytest.mark.parametrize("licence", ["commercial", "exclusive"])
@pytest.mark.django_db
def test_commercial_and_exclusive_need_a_plan_that_allows_them(
    artist_client, artist, make_artwork, on_pro_plan, licence
):
    artwork = make_artwork(31)
    refused = offer(artist_client, artwork["id"], licence_type=licence, price=50_000)
    assert refused.status_code == 402
    assert refused.json()["code"] == "plan_upgrade_required" and "plan" in refused.json()["reason"]
    assert not Listing.objects.exists()
    on_pro_plan(artist)
    accepted = offer(artist_client, artwork["id"], licence_type=licence, price=50_000)
    assert accepted.status_code == 201, accepted.json()


@pytest.mark.django_db
def test_one_active_listing_per_licence_type_and_one_currency_per_artwork(
    artist_client, artist, make_artwork, on_pro_plan
):
    on_pro_plan(artist)
    artwork = make_artwork(32)
    first = offer(artist_client, artwork["id"]).json()
    again = offer(artist_client, artwork["id"], price=10)
    assert again.status_code == 409 and again.json()["code"] == "listing_exists"
    assert again.json()["listing"] == first["id"]
    other_currency = offer(artist_client, artwork["id"], licence_type="commercial", currency="GBP")
    assert other_currency.status_code == 409 and other_currency.json()["code"] == "currency_mismatch"
    assert offer(artist_client, artwork["id"], licence_type="commercial", price=9_000).status_code == 201
    stored = Artwork.objects.get(public_id=artwork["id"])
    assert (stored.min_price, stored.offers_personal, stored.offers_commercial, stored.offers_exclusive) == (
        2_500,
        True,
        True,
        False,
    )


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"price": 0}, "price"),
        ({"price": -5}, "price"),
        ({"price": "ten"}, "price"),
        ({"price": 10**9}, "price"),
        ({"price": 12.5}, "price"),
        ({"currency": "XYZ"}, "currency"),
        ({"licence_type": "forever"}, "licence_type"),
    ],
)
@pytest.mark.django_db
def test_bad_prices_currencies_and_licence_types_are_400(artist_client, make_artwork, fields, field):
    artwork = make_artwork(33)
    response = offer(artist_client, artwork["id"], **fields)
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not Listing.objects.exists()


@pytest.mark.parametrize("field", ["state", "artwork", "sold_count", "owner", "royalty"])
@pytest.mark.django_db
def test_writable_field_abuse_on_listings_is_400(artist_client, make_artwork, field):
    artwork = make_artwork(34)
    response = offer(artist_client, artwork["id"], **{field: "x"})
    assert response.status_code == 400 and field in response.json()["errors"]
    listing = offer(artist_client, artwork["id"]).json()
    patched = artist_client.patch(f"/api/v1/listings/{listing['id']}", {"price": 10, field: "x"}, format="json")
    assert patched.status_code == 400
    assert Listing.objects.get(public_id=listing["id"]).price == 2_500


@pytest.mark.django_db
def test_repricing_and_closing_update_the_artworks_browse_price(artist_client, make_artwork):
    artwork = make_artwork(35)
    listing = offer(artist_client, artwork["id"]).json()
    repriced = artist_client.patch(f"/api/v1/listings/{listing['id']}", {"price": 1_200}, format="json")
    assert repriced.status_code == 200 and repriced.json()["price"] == 1_200
    assert Artwork.objects.get(public_id=artwork["id"]).min_price == 1_200
    closed = artist_client.post(f"/api/v1/listings/{listing['id']}/close")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    stored = Artwork.objects.get(public_id=artwork["id"])
    assert stored.min_price is None and not stored.offers_personal
    again = artist_client.post(f"/api/v1/listings/{listing['id']}/close")
    assert again.status_code == 409 and again.json()["state"] == "closed"


@pytest.mark.django_db
def test_listings_of_another_artist_are_404_for_writes(client_for, make_user, artist_client, make_artwork):
    artwork = make_artwork(36)
    listing = offer(artist_client, artwork["id"]).json()
    other = client_for(make_user(role="artist"))
    assert other.patch(f"/api/v1/listings/{listing['id']}", {"price": 1}, format="json").status_code == 404
    assert other.post(f"/api/v1/listings/{listing['id']}/close").status_code == 404
    assert other.get(f"/api/v1/listings/{listing['id']}").status_code == 200  # public: the work is published
    assert Listing.objects.get(public_id=listing["id"]).price == 2_500


@pytest.mark.django_db
def test_a_draft_may_be_priced_but_its_listings_are_hidden_until_published(artist_client, api, make_artwork):
    draft = make_artwork(37, publish=False)
    listing = offer(artist_client, draft["id"]).json()
    assert api.get(f"/api/v1/listings/{listing['id']}").status_code == 404
    artist_client.post(f"/api/v1/artworks/{draft['id']}/publish")
    assert api.get(f"/api/v1/listings/{listing['id']}").status_code == 200


@pytest.mark.django_db
def test_a_withdrawn_artwork_takes_no_new_listings(artist_client, make_artwork):
    artwork = make_artwork(38)
    artist_client.post(f"/api/v1/artworks/{artwork['id']}/withdraw")
    response = offer(artist_client, artwork["id"])
    assert response.status_code == 409 and response.json()["state"] == "withdrawn"
