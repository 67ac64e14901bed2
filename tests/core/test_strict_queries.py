"""Query strings are validated like bodies: a value the schema does not allow is a 400 naming the parameter,
never silently replaced by a default (DRF's HTML-form rules read `?state=` as absent; its paginators fall back
to the default page size on `?page_size=abc`)."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["page_size=abc", "page_size=", "page_size=0", "page_size=101", "page_size=²", "page=abc", "page=", "page=0"],
)
def test_a_bad_page_or_page_size_is_400_on_page_number_lists(user_client, query):
    response = user_client.get(f"/api/v1/orders?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid_page_size", "invalid_page"}


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["page_size=abc", "page_size=", "page_size=1000"])
def test_a_bad_page_size_is_400_on_cursor_lists(user_client, query):
    response = user_client.get(f"/api/v1/payments?{query}")
    assert response.status_code == 400 and response.json()["code"] == "invalid_page_size"


@pytest.mark.django_db
def test_good_page_sizes_still_page(user_client):
    assert user_client.get("/api/v1/orders?page_size=100&page=1").status_code == 200
    assert user_client.get("/api/v1/payments?page_size=1").status_code == 200
    assert user_client.get("/api/v1/orders?page=2").status_code == 404  # past the end: DRF's "Invalid page."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/usage", "period"),
        ("/api/v1/commissions", "state"),
        ("/api/v1/commissions", "role"),
        ("/api/v1/generated-images", "curation"),
    ],
)
def test_a_blank_filter_is_400_not_everything(client_for, make_user, path, param):
    client = client_for(make_user(role="artist"))
    response = client.get(f"{path}?{param}=")
    assert response.status_code == 400, response.content
    assert param in response.json()["errors"]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["sort=", "provenance=", "artist=", "price_min=", "page_size=", "licence=gift"])
def test_the_public_browse_refuses_blank_and_unknown_values(api, query):
    response = api.get(f"/api/v1/artworks?{query}")
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()["errors"]


@pytest.mark.django_db
def test_the_gallery_page_still_treats_a_blank_form_field_as_any(client):
    response = client.get("/gallery?q=&sort=&provenance=&artist=&price_min=&price_max=&currency=")
    assert response.status_code == 200


@pytest.mark.django_db
def test_an_idempotency_key_outside_printable_ascii_is_400(user_client):
    response = user_client.post(
        "/api/v1/orders", {"listing": "00000000-0000-0000-0000-000000000000"}, HTTP_IDEMPOTENCY_KEY="clé"
    )
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]


@pytest.mark.django_db
def test_form_encoded_bodies_are_415_where_an_operation_reads_json(user_client):
    response = user_client.patch(
        "/api/v1/me", "display_name=x&open_to_commissions=maybe", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
