"""Who may see and do what: another user's commission is a 404 everywhere; a party doing what their role may
not is a 403; nothing changes either way."""

import pytest

from marketplace.commissions.models import Commission, Delivery
from marketplace.subscriptions.models import Payment
from tests.marketplace.commissions.helpers import (
    accept,
    accept_delivery,
    cancel,
    deliver,
    offer,
    png,
    post_brief,
    request_revision,
)


@pytest.mark.django_db
def test_an_artist_cannot_accept_their_own_offer(artist_client, brief):
    sent = offer(artist_client, brief["id"]).json()
    response = accept(artist_client, sent["id"])
    assert response.status_code == 403 and response.json()["code"] == "not_allowed_for_role"
    assert Commission.objects.get().state == "open" and not Payment.objects.exists()


@pytest.mark.django_db
def test_a_client_cannot_deliver(client_api, awarded):
    response = deliver(client_api, awarded["id"])
    assert response.status_code == 403
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_another_artist_cannot_deliver_and_learns_nothing(other_artist_api, awarded):
    response = deliver(other_artist_api, awarded["id"])
    assert response.status_code == 404
    assert (
        response.json()["detail"]
        == other_artist_api.get("/api/v1/commissions/00000000-0000-0000-0000-000000000000").json()["detail"]
    )
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_the_artist_cannot_review_their_own_delivery(artist_client, awarded):
    delivery = deliver(artist_client, awarded["id"]).json()
    assert accept_delivery(artist_client, delivery["id"]).status_code == 403
    assert request_revision(artist_client, delivery["id"]).status_code == 403
    assert Commission.objects.get().state == "delivered"


@pytest.mark.django_db
def test_another_users_commission_is_404_everywhere(make_user, client_for, client_api, artist_client, awarded):
    stranger = client_for(make_user(role="buyer"))
    delivery = deliver(artist_client, awarded["id"]).json()
    paths = [
        f"/api/v1/commissions/{awarded['id']}",
        f"/api/v1/commissions/{awarded['id']}/history",
        f"/api/v1/commissions/{awarded['id']}/offers",
        f"/api/v1/commissions/{awarded['id']}/deliveries",
        f"/api/v1/commission-offers/{awarded['accepted_offer']}",
        f"/api/v1/commission-deliveries/{delivery['id']}",
        f"/api/v1/commission-deliveries/{delivery['id']}/images/0",
    ]
    for path in paths:
        assert stranger.get(path).status_code == 404, path
    assert cancel(stranger, awarded["id"]).status_code == 404
    assert accept_delivery(stranger, delivery["id"]).status_code == 404
    assert stranger.get("/api/v1/commissions").json()["count"] == 0
    assert Commission.objects.get().state == "delivered"


@pytest.mark.django_db
def test_delivered_images_are_for_the_two_parties_only(client_api, artist_client, other_artist_api, awarded):
    delivery = deliver(artist_client, awarded["id"], png()).json()
    url = f"/api/v1/commission-deliveries/{delivery['id']}/images/0"
    assert client_api.get(url).status_code == 200
    assert artist_client.get(url).status_code == 200
    assert other_artist_api.get(url).status_code == 404
    assert client_api.get(f"/api/v1/commission-deliveries/{delivery['id']}/images/5").status_code == 404


@pytest.mark.django_db
def test_a_brief_for_one_artist_is_hidden_from_the_others(client_api, artist, artist_client, other_artist_api):
    brief = post_brief(client_api, target_artist=str(artist.public_id)).json()
    assert brief["target_artist"]["id"] == str(artist.public_id)
    assert other_artist_api.get("/api/v1/commission-briefs").json()["count"] == 0
    assert other_artist_api.get(f"/api/v1/commissions/{brief['id']}").status_code == 404
    assert other_artist_api.get(f"/api/v1/commissions/{brief['id']}/references/0").status_code == 404
    assert offer(other_artist_api, brief["id"]).status_code == 404
    assert artist_client.get("/api/v1/commission-briefs").json()["count"] == 1
    assert offer(artist_client, brief["id"]).status_code == 201


@pytest.mark.django_db
def test_a_brief_naming_a_model_is_open_to_its_owner_only(
    client_api, artist, artist_client, other_artist_api, model_of
):
    model = model_of(artist)
    brief = post_brief(client_api, target_model=str(model.public_id)).json()
    assert brief["target_model"] == str(model.public_id) and brief["target_artist"]["id"] == str(artist.public_id)
    assert other_artist_api.get(f"/api/v1/commissions/{brief['id']}").status_code == 404
    assert artist_client.get(f"/api/v1/commissions/{brief['id']}").status_code == 200


@pytest.mark.django_db
def test_buyers_do_not_see_open_briefs(make_user, client_for, brief):
    buyer = client_for(make_user(role="buyer"))
    assert buyer.get("/api/v1/commission-briefs").json()["count"] == 0
    assert buyer.get(f"/api/v1/commissions/{brief['id']}").status_code == 404
    assert offer(buyer, brief["id"]).status_code == 404


@pytest.mark.django_db
def test_a_client_cannot_offer_on_their_own_brief(make_user, client_for):
    artist_client = client_for(make_user(role="artist"))
    brief = post_brief(artist_client).json()
    response = offer(artist_client, brief["id"])
    assert response.status_code == 403
    assert not Commission.objects.get().offers.exists()


@pytest.mark.django_db
def test_artists_see_their_own_offers_and_the_client_sees_all(client_api, artist_client, other_artist_api, brief):
    mine = offer(artist_client, brief["id"]).json()
    theirs = offer(other_artist_api, brief["id"]).json()
    url = f"/api/v1/commissions/{brief['id']}/offers"
    assert [item["id"] for item in artist_client.get(url).json()["results"]] == [mine["id"]]
    assert {item["id"] for item in client_api.get(url).json()["results"]} == {mine["id"], theirs["id"]}
    assert artist_client.get(f"/api/v1/commission-offers/{theirs['id']}").status_code == 404
    assert [item["id"] for item in artist_client.get("/api/v1/commission-offers").json()["results"]] == [mine["id"]]


@pytest.mark.django_db
def test_once_awarded_the_brief_disappears_for_the_other_artists(client_api, artist_client, other_artist_api, brief):
    sent = offer(artist_client, brief["id"]).json()
    losing = offer(other_artist_api, brief["id"]).json()
    accept(client_api, sent["id"])
    assert other_artist_api.get(f"/api/v1/commissions/{brief['id']}").status_code == 404
    assert other_artist_api.get("/api/v1/commission-briefs").json()["count"] == 0
    assert other_artist_api.get(f"/api/v1/commission-offers/{losing['id']}").json()["state"] == "declined"


@pytest.mark.django_db
def test_only_the_client_declines_and_only_the_artist_withdraws(client_api, artist_client, brief):
    sent = offer(artist_client, brief["id"]).json()
    assert artist_client.post(f"/api/v1/commission-offers/{sent['id']}/decline", {}, format="json").status_code == 403
    assert client_api.post(f"/api/v1/commission-offers/{sent['id']}/withdraw", {}, format="json").status_code == 403
    declined = client_api.post(f"/api/v1/commission-offers/{sent['id']}/decline", {}, format="json")
    assert declined.status_code == 200 and declined.json()["state"] == "declined"
    assert accept(client_api, sent["id"]).status_code == 409


@pytest.mark.django_db
def test_browsing_artists_see_when_a_brief_was_posted_not_its_past_acceptances(
    client_api, artist_client, other_artist_api, brief
):
    sent = offer(artist_client, brief["id"]).json()
    assert accept(client_api, sent["id"], payment_method="tok_card_declined").status_code == 402
    seen = other_artist_api.get(f"/api/v1/commissions/{brief['id']}").json()["history"]
    assert [entry["action"] for entry in seen] == ["created"]
    assert [entry["action"] for entry in other_artist_api.get(f"/api/v1/commissions/{brief['id']}/history").json()] == [
        "created"
    ]
    assert len(client_api.get(f"/api/v1/commissions/{brief['id']}/history").json()) == 3
