"""A model version's views and sales next to its parent's (the version it was fine-tuned from)."""

import pytest

from generation.models import TrainingRun
from marketplace.gallery.models import Artwork, Order
from tests.marketplace.gallery.helpers import buy


@pytest.mark.django_db
def test_a_fine_tuned_model_shows_its_views_and_sales_beside_its_parents(
    artist, artist_client, generated_image_for, make_listing, make_user, client_for
):
    parent_image = generated_image_for(artist, seed=1)
    child_image = generated_image_for(artist, seed=2)
    parent, child = parent_image.model_version, child_image.model_version
    TrainingRun.objects.filter(pk=child.training_run_id).update(init_from=parent)
    artworks = {}
    for name, image in (("parent", parent_image), ("child", child_image)):
        created = artist_client.post(
            "/api/v1/artworks", {"title": name, "generated_image": str(image.public_id)}, format="json"
        ).json()
        assert artist_client.post(f"/api/v1/artworks/{created['id']}/publish").status_code == 200
        artworks[name] = created["id"]
    Artwork.objects.filter(public_id=artworks["parent"]).update(view_count=5)
    Artwork.objects.filter(public_id=artworks["child"]).update(view_count=40)
    listing = make_listing(artworks["child"], price=2_000)
    order = buy(client_for(make_user()), listing["id"])
    assert order.status_code in (201, 202), order.json()
    sold = Order.objects.get()
    assert sold.state == "fulfilled", sold.state

    body = artist_client.get(f"/api/v1/models/{child.public_id}/performance").json()
    assert body["model"]["model"] == str(child.public_id) and body["parent"]["model"] == str(parent.public_id)
    assert (body["model"]["views"], body["model"]["sales"], body["model"]["published"]) == (40, 1, 1)
    assert body["model"]["revenue"] == {"USD": sold.artist_amount}
    assert (body["parent"]["views"], body["parent"]["sales"], body["parent"]["revenue"]) == (5, 0, {})
    assert "metrics" in body["model"]
    # trained from scratch: no parent; someone else's model: 404
    assert artist_client.get(f"/api/v1/models/{parent.public_id}/performance").json()["parent"] is None
    stranger = client_for(make_user(role="artist"))
    assert stranger.get(f"/api/v1/models/{child.public_id}/performance").status_code == 404
