"""Every object endpoint, walked from the URL configuration: a signed-in stranger gets 404 for other users'
objects on every method (never a 403 that would confirm the object exists), and the database is unchanged.

The world (tests/marketplace/world.py) holds one object of every kind, owned by an artist, a buyer and a
commission client. A new
object endpoint fails this test until it is given an object here (or, if it is public by design, a line in
PUBLIC_READS with its reason).
"""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.generation.factories import export_tiny_onnx
from tests.marketplace.gallery.helpers import image_png
from tests.marketplace.world import ApiRoute, People, api_routes, build_world, fill, private_media, snapshot

UNKNOWN = "00000000-0000-4000-8000-000000000000"

# (route name, method) that answer a stranger by design: the status expected, and why.
PUBLIC_READS = {
    ("artwork-detail", "get"): (200, "published artworks are the public gallery"),
    ("artwork-preview", "get"): (200, "watermarked previews of published artworks are public"),
    ("artwork-listings", "get"): (200, "the listings of a published artwork are its price tags"),
    ("artwork-download-url", "get"): (403, "the artwork is public; the original needs a licence, and says so"),
    ("artwork-download-url", "post"): (403, "the artwork is public; the original needs a licence, and says so"),
    ("listing-detail", "get"): (200, "a listing on a published artwork is public"),
    ("user-avatar", "get"): (200, "profile pictures are public, like display names"),
    ("provenance-certificate", "get"): (409, "public, but only once anchored (tests/provenance, on anvil)"),
    ("provenance-verify-hash", "get"): (200, "provenance is public: anyone may verify a registered work"),
    ("artist-detail", "get"): (200, "artist profiles are public (never an email)"),
}
# Routes walked with the draft artwork, which nobody but its artist may see.
DRAFT_BACKED = {"artwork-detail", "artwork-preview", "artwork-listings", "artwork-download-url"}
# Endpoints refused by role before any object is looked up: the same answer for every id, so nothing leaks.
ROLE_ONLY = {("order-refund", "post"): "refunds are for support staff"}
# Routes that are not object endpoints of a user: capability URLs whose secret is the authorisation.
NOT_OWNED = {"download": "a signed, expiring download token is itself the permission (tests/marketplace/gallery)"}

# Bodies valid in shape, so a view that validates before it looks the object up cannot hide behind a 400.
JSON_BODIES = {
    "artwork-detail": {"title": "Mine now"},
    "artwork-listings": {"licence_type": "personal", "price": 100, "currency": "USD"},
    "listing-detail": {"price": 1},
    "order-pay": {"payment_method": "tok_visa"},
    "order-refund": {"reason": "stolen"},
    "commission-offer-list": {"price": 100, "message": "Me!", "delivery_by": "2099-01-01T00:00:00Z"},
    "commission-offer-accept": {"payment_method": "tok_visa"},
    "commission-delivery-request-revision": {"note": "Again."},
    "commission-cancel": {"note": "Changed my mind."},
    "webhook-detail": {"description": "hijacked", "events": ["*"]},
    "artwork-download-url": {},
}


def object_routes() -> dict[str, ApiRoute]:
    """Every /api/v1/ route that addresses an object by a URL parameter."""
    return {name: route for name, route in api_routes().items() if route.addresses_an_object}


@pytest.fixture
def world(settings, tmp_path: Path, make_user, client_for, run_tasks) -> dict[str, dict[str, object]]:
    """Route name -> URL parameters of an object the stranger has no part in."""
    private_media(settings, tmp_path)
    people = People.make(make_user, client_for)
    return build_world(people, onnx_path=export_tiny_onnx(tmp_path / "onnx"), run_tasks=run_tasks)


def request(client, method: str, path: str, name: str):
    if method in ("get", "delete"):
        return getattr(client, method)(path)
    if name in ("commission-delivery-list",):
        files = [SimpleUploadedFile("x.png", image_png(9, size=(32, 32)))]
        return getattr(client, method)(path, {"images": files, "note": "mine"}, format="multipart")
    return getattr(client, method)(path, JSON_BODIES.get(name, {}), format="json")


@pytest.mark.django_db
def test_a_stranger_gets_404_for_every_object_endpoint_and_changes_nothing(world, make_user, client_for):
    stranger = client_for(make_user(role="artist"))
    routes = object_routes()
    unknown = set(routes) - set(world) - set(NOT_OWNED)
    assert not unknown, f"object endpoints without an object in this test's world: {sorted(unknown)}"

    before = snapshot()
    answers, unknown_id_answers = {}, {}
    for name, api_route in sorted(routes.items()):
        route, methods = api_route.route, api_route.methods
        if name in NOT_OWNED:
            continue
        nobody = {key: (UNKNOWN if key == "public_id" else value) for key, value in world[name].items()}
        for method in methods:
            answers[(name, method)] = request(stranger, method, fill(route, world[name]), name).status_code
            unknown_id_answers[(name, method)] = request(stranger, method, fill(route, nobody), name).status_code
    expected = {
        key: PUBLIC_READS[key][0] if key in PUBLIC_READS and key[0] not in DRAFT_BACKED else 404 for key in answers
    }
    wrong = {key: status for key, status in answers.items() if key not in ROLE_ONLY and status != expected[key]}
    assert not wrong, f"a stranger got the wrong answer: {wrong}"
    leaks = {
        key: (answers[key], unknown_id_answers[key]) for key in ROLE_ONLY if answers[key] != unknown_id_answers[key]
    }
    assert not leaks, f"answers that tell a real object from a missing one: {leaks}"
    assert snapshot() == before
    assert {name for name, _ in answers} == set(routes) - set(NOT_OWNED)


@pytest.mark.django_db
def test_public_reads_answer_a_stranger_and_writes_on_public_objects_are_still_404(world, make_user, client_for):
    stranger = client_for(make_user(role="artist"))
    routes = object_routes()
    published = world["_published_artwork"]
    public_values = {name: published for name in DRAFT_BACKED}
    for (name, method), (status, why) in PUBLIC_READS.items():
        route = routes[name].route
        response = request(stranger, method, fill(route, public_values.get(name, world[name])), name)
        assert response.status_code == status, (name, why, response.status_code)
    before = snapshot()  # (a view of a published artwork counts towards its popularity)
    for name in ("artwork-detail", "artwork-publish", "artwork-withdraw", "artwork-listings"):
        route, methods = routes[name].route, routes[name].methods
        for method in set(methods) - {"get"}:
            response = request(stranger, method, fill(route, published), name)
            assert response.status_code == 404, (name, method, response.status_code)
    assert snapshot() == before
