"""The whole commission flow over the API: a client on an API key, an artist on a login token."""

import hashlib

import pytest
from rest_framework.test import APIClient

from core.models import DomainEvent
from marketplace.commissions.models import Commission
from marketplace.subscriptions.selectors import ledger_balance, ledger_entries_for
from provenance.credentials.c2pa_manifests import SOURCE_UPLOADED, strip_manifest
from provenance.credentials.c2pa_manifests import read as read_manifest
from provenance.services.credentials import trust_anchors_pem
from tests.marketplace.commissions.helpers import (
    accept,
    accept_delivery,
    deliver,
    future,
    history,
    latest_delivery_id,
    offer,
    png,
    post_brief,
    request_revision,
)


def key_client(token_client, *scopes) -> APIClient:
    created = token_client.post("/api/v1/api-keys", {"name": "integration", "scopes": list(scopes)}, format="json")
    assert created.status_code == 201, created.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.json()['key']}")
    return client


def events_of(user) -> list[str]:
    return list(
        DomainEvent.objects.filter(user=user, type__startswith="commission.")
        .order_by("id")
        .values_list("type", flat=True)
    )


@pytest.mark.django_db
def test_whole_flow_with_an_api_key_client_and_a_token_artist(client_api, client_user, artist_client, artist):
    client = key_client(client_api, "commissions:read", "commissions:write")
    reference = png((10, 120, 200), (40, 30))
    created = post_brief(client, references=[("fox.png", reference)], budget=6000)
    assert created.status_code == 201, created.json()
    brief = created.json()
    assert brief["state"] == "open" and brief["client"]["id"] == str(client_user.public_id)
    assert [(ref["index"], ref["width"], ref["height"]) for ref in brief["references"]] == [(0, 40, 30)]

    # The artist finds the brief, reads its reference, and sends an offer above the budget (allowed, flagged).
    listed = artist_client.get("/api/v1/commission-briefs").json()["results"]
    assert [item["id"] for item in listed] == [brief["id"]]
    image = artist_client.get(f"/api/v1/commissions/{brief['id']}/references/0")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content).startswith(b"\x89PNG")
    sent = offer(artist_client, brief["id"], price=6500, revisions=1)
    assert sent.status_code == 201, sent.json()
    assert sent.json()["over_budget"] is True and sent.json()["currency"] == "USD"
    assert [item["id"] for item in client.get(f"/api/v1/commissions/{brief['id']}/offers").json()["results"]] == [
        sent.json()["id"]
    ]

    awarded = accept(client, sent.json()["id"])
    assert awarded.status_code == 200, awarded.json()
    body = awarded.json()
    assert body["state"] == "awarded" and body["artist"]["id"] == str(artist.public_id)
    assert body["price"] == 6500 and body["platform_fee"] == 975 and body["payout"] == 5525
    assert body["payment"]["state"] == "succeeded" and body["payment"]["amount"] == 6500
    assert artist_client.get(f"/api/v1/commissions/{brief['id']}").json()["payment"] is None  # client's only

    first = deliver(artist_client, brief["id"], png((1, 2, 3)), png((4, 5, 6)))
    assert first.status_code == 201, first.json()
    assert first.json()["state"] == "delivered" and len(first.json()["images"]) == 2
    revised = request_revision(client, first.json()["id"])
    assert revised.status_code == 200 and revised.json()["state"] == "revision_requested"
    assert revised.json()["revisions_used"] == 1
    second = deliver(artist_client, brief["id"], png((7, 8, 9)))
    assert second.status_code == 201 and second.json()["number"] == 2

    fetched = client.get(f"/api/v1/commission-deliveries/{second.json()['id']}/images/0")
    assert fetched.status_code == 200
    data = b"".join(fetched.streaming_content)
    # delivered with Content Credentials; without them it is the stored image exactly
    assert hashlib.sha256(strip_manifest(data)).hexdigest() == second.json()["images"][0]["sha256"]
    reading = read_manifest(data=data, trust_anchors_pem=trust_anchors_pem())
    assert reading.status == "trusted" and reading.atelier["delivery_id"] == second.json()["id"]
    assert reading.assertions["c2pa.actions.v2"]["actions"][0]["digitalSourceType"] == SOURCE_UPLOADED
    assert reading.assertions["c2pa.training-mining"]["entries"]["c2pa.ai_training"] == {"use": "notAllowed"}

    assert latest_delivery_id(client, brief["id"]) == second.json()["id"]
    done = accept_delivery(client, second.json()["id"])
    assert done.status_code == 200, done.json()
    assert done.json()["state"] == "completed"

    assert ledger_balance(user=artist) == {"USD": 5525}
    assert ledger_entries_for(user=artist).get().reference == f"commission:{brief['id']}"
    assert history(client, brief["id"]) == [
        ("created", "", "open"),
        ("accept_offer", "open", "payment_pending"),
        ("payment_succeeded", "payment_pending", "awarded"),
        ("deliver", "awarded", "delivered"),
        ("request_revision", "delivered", "revision_requested"),
        ("deliver", "revision_requested", "delivered"),
        ("accept_delivery", "delivered", "completed"),
    ]
    detail = artist_client.get(f"/api/v1/commissions/{brief['id']}").json()
    actors = [(entry["action"], entry["actor"], entry["actor_role"]) for entry in detail["history"]]
    assert ("deliver", str(artist.public_id), "artist") in actors
    assert ("payment_succeeded", None, "system") in actors
    assert ("request_revision", str(client_user.public_id), "client") in actors
    assert all(entry["at"] for entry in detail["history"])
    assert events_of(client_user) == [
        "commission.created",
        "commission.offer_received",
        "commission.offer_accepted",
        "commission.delivered",
        "commission.delivered",
        "commission.completed",
    ]
    assert events_of(artist) == ["commission.offer_accepted", "commission.revision_requested", "commission.completed"]


@pytest.mark.django_db
def test_a_key_without_commissions_write_is_403_and_creates_nothing(client_api):
    reader = key_client(client_api, "commissions:read")
    response = post_brief(reader)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert not Commission.objects.exists()
    assert reader.get("/api/v1/commissions").status_code == 200


@pytest.mark.django_db
def test_a_key_without_commissions_read_cannot_list_or_read(client_api, brief):
    writer = key_client(client_api, "profile:read")
    assert writer.get("/api/v1/commissions").status_code == 403
    assert writer.get(f"/api/v1/commissions/{brief['id']}").status_code == 403


@pytest.mark.django_db
def test_posting_a_brief_twice_with_one_idempotency_key_creates_one(client_api):
    body = {"description": "A lighthouse at dusk.", "budget": 100, "currency": "eur", "deadline": future(days=3)}
    first = client_api.post("/api/v1/commissions", body, format="json", HTTP_IDEMPOTENCY_KEY="brief-1")
    second = client_api.post("/api/v1/commissions", body, format="json", HTTP_IDEMPOTENCY_KEY="brief-1")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true" and first.json()["id"] == second.json()["id"]
    assert first.json()["currency"] == "EUR"
    assert Commission.objects.count() == 1


@pytest.mark.django_db
def test_replaying_an_accept_with_its_idempotency_key_charges_once(client_api, artist_client, brief):
    from marketplace.subscriptions.models import Payment

    sent = offer(artist_client, brief["id"]).json()
    first = accept(client_api, sent["id"], HTTP_IDEMPOTENCY_KEY="accept-1")
    second = accept(client_api, sent["id"], HTTP_IDEMPOTENCY_KEY="accept-1")
    assert first.status_code == second.status_code == 200
    assert second["Idempotent-Replayed"] == "true" and first.json() == second.json()
    assert Payment.objects.count() == 1
