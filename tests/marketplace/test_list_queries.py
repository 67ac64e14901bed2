"""Every paginated list endpoint runs the same number of queries whatever the number of rows on the page
(no N+1): measured with one object of every kind, then again with two, then three."""

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from marketplace.subscriptions.services import subscription_change_plan
from marketplace.webhooks import services as webhook_services
from tests.generation.factories import export_tiny_onnx
from tests.marketplace.commissions.helpers import accept, deliver, offer, png, post_brief, request_revision
from tests.marketplace.world import People, api_routes, build_world, private_media

# Who sees the rows of each list (None: anyone). A new paginated list fails the test until it is named here.
VIEWERS = {
    "api-key-list": "artist",
    "usage-list": "artist",
    "payment-list": "buyer",
    "ledger-list": "artist",
    "payout-list": "artist",
    "artwork-list": None,
    "artwork-mine": "artist",
    "order-list": "buyer",
    "sale-list": "artist",
    "licence-list": "buyer",
    "commission-list": "client",
    "commission-brief-list": "artist",
    "commission-offer-mine": "artist",
    "webhook-list": "artist",
    "dataset-list": "artist",
    "training-run-list": "artist",
    "model-version-list": "artist",
    "generation-job-list": "artist",
    "artist-list": None,
    "generated-image-list": "artist",
}
# Lists whose rows the world does not grow (said why), checked for constant queries all the same.
NOT_GROWN = {
    "ledger-list": "payouts land when a client accepts a delivery; the world's deliveries await review",
    "commission-brief-list": "open briefs only; the world's briefs are all awarded",
    "artist-list": "the world has one artist (tests/marketplace/storefront/test_page_queries.py grows artists)",
}


def paginated_lists() -> dict[str, str]:
    """name -> path of every /api/v1/ list without URL parameters (paginated views, and the gallery browse)."""
    return {
        name: route.route
        for name, route in api_routes().items()
        if not route.addresses_an_object
        and "get" in route.methods
        and (getattr(route.view, "pagination_class", None) or name == "artwork-list")
    }


def count(api: APIClient, path: str) -> tuple[int, int]:
    """(queries, rows on the first page) of one list request."""
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path, {"page_size": 50})
    assert response.status_code == 200, (path, response.status_code)
    body = response.json()
    return len(queries), len(body["results"] if isinstance(body, dict) and "results" in body else body)


def measure(clients: dict[str | None, APIClient], lists: dict[str, str]) -> dict[str, tuple[int, int]]:
    return {name: count(clients[VIEWERS[name]], path) for name, path in lists.items()}


@pytest.mark.django_db
def test_list_endpoints_run_a_constant_number_of_queries(settings, tmp_path: Path, make_user, client_for, run_tasks):
    private_media(settings, tmp_path)
    settings.GALLERY_BROWSE_CACHE_SECONDS = 0  # count the database path, not the page cache
    people = People.make(make_user, client_for)
    clients = {"artist": people.as_artist, "buyer": people.as_buyer, "client": people.as_client, None: APIClient()}
    lists = paginated_lists()
    assert set(lists) == set(VIEWERS), f"name a viewer for: {sorted(set(lists) ^ set(VIEWERS))}"
    onnx_path = export_tiny_onnx(tmp_path / "onnx")
    subscription_change_plan(user=people.artist, plan="studio", payment_method="tok_visa")  # a training run per world

    rounds = []
    for seed in range(3):
        build_world(people, onnx_path=onnx_path, run_tasks=run_tasks, seed=seed)
        rounds.append(measure(clients, lists))

    growing = {
        name: [measured[name] for measured in rounds]
        for name in lists
        if len({measured[name][0] for measured in rounds}) > 1
    }
    assert not growing, f"queries that grow with the rows, (queries, rows) per round: {growing}"
    ungrown = {
        name: [measured[name][1] for measured in rounds]
        for name in lists
        if name not in NOT_GROWN and not rounds[0][name][1] < rounds[1][name][1] < rounds[2][name][1]
    }
    assert not ungrown, f"lists the world did not add rows to: {ungrown}"


@pytest.mark.django_db
def test_nested_lists_run_a_constant_number_of_queries(settings, tmp_path: Path, make_user, client_for):
    """Offers on one brief, deliveries of one commission, deliveries of one webhook endpoint, and a brief's
    history, each measured as its children grow."""
    private_media(settings, tmp_path)
    client = client_for(make_user(role="buyer"))
    artists = [make_user(role="artist") for _ in range(3)]
    as_artists = [client_for(artist) for artist in artists]
    brief = post_brief(client).json()
    measured: dict[str, list[tuple[int, int]]] = {"offers": [], "deliveries": [], "history": [], "webhook": []}

    offers = []
    for as_artist in as_artists:  # one more offer on the same brief each time
        offers.append(offer(as_artist, brief["id"], revisions=2).json())
        measured["offers"].append(count(client, f"/api/v1/commissions/{brief['id']}/offers"))
    assert accept(client, offers[0]["id"]).status_code == 200
    for round_ in range(3):  # deliver, ask for a revision, deliver again…
        delivery = deliver(as_artists[0], brief["id"], png(color=(10 * round_, 40, 90))).json()
        measured["deliveries"].append(count(client, f"/api/v1/commissions/{brief['id']}/deliveries"))
        measured["history"].append(count(client, f"/api/v1/commissions/{brief['id']}/history"))
        if round_ < 2:
            assert request_revision(client, delivery["id"]).status_code == 200

    endpoint = webhook_services.webhook_endpoint_create(owner=artists[0], url="https://93.184.215.14/hooks")
    for _ in range(3):
        assert as_artists[0].post(f"/api/v1/webhooks/{endpoint.public_id}/test").status_code in (200, 202)
        measured["webhook"].append(count(as_artists[0], f"/api/v1/webhooks/{endpoint.public_id}/deliveries"))

    for name, rounds in measured.items():
        queries, rows = [q for q, _ in rounds], [r for _, r in rounds]
        assert len(set(queries)) == 1, f"{name}: {queries} queries for {rows} rows"
        assert rows[0] < rows[1] < rows[2], f"{name}: rows did not grow ({rows})"
