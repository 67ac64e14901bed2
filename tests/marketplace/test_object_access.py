"""Every object endpoint, walked from the URL configuration: a signed-in stranger gets 404 for other users'
objects on every method (never a 403 that would confirm the object exists), and the database is unchanged.

The world (tests/marketplace/world.py) holds one object of every kind, owned by an artist, a buyer and a
commission client. A new
object endpoint fails this test until it is given an object here (or, if it is public by design, a line in
PUBLIC_READS with its reason).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from tests.generation.factories import export_tiny_onnx
from tests.marketplace.gallery.conftest import image_png
from tests.marketplace.world import People, build_world

METHODS = ("get", "post", "put", "patch", "delete")
UNKNOWN = "00000000-0000-4000-8000-000000000000"
OUR_APPS = {"accounts", "subscriptions", "gallery", "commissions", "webhooks", "generation", "provenance", "core"}
# Rows a request may touch whoever sends it: the stranger's own token use and API throttling bookkeeping.
BOOKKEEPING = {"accounts.authtoken"}

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


def walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def object_routes() -> dict[str, tuple[str, list[str]]]:
    """name -> (route, methods) of every /api/v1/ pattern that addresses an object by a URL parameter."""
    routes = {}
    for route, pattern in walk(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", None)
        if route.startswith("api/v1/") and "<" in route and view is not None:
            routes[pattern.name] = (route, [method for method in METHODS if hasattr(view, method)])
    return routes


def fill(route: str, values: dict[str, object]) -> str:
    path = "/" + route
    for name, value in values.items():
        for converter in ("uuid", "int", "str"):
            path = path.replace(f"<{converter}:{name}>", str(value))
    assert "<" not in path, f"no value for a parameter of {route}"
    return path


def snapshot() -> dict[str, list[tuple]]:
    tables = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.app_label in OUR_APPS and label not in BOOKKEEPING and not model._meta.proxy:
            tables[label] = list(model.objects.order_by("pk").values_list())
    return tables


@pytest.fixture
def people(make_user, client_for) -> People:
    artist, buyer, client = make_user(role="artist"), make_user(role="buyer"), make_user(role="buyer")
    return People(artist=artist, buyer=buyer, client=client, as_artist=client_for(artist),
                  as_buyer=client_for(buyer), as_client=client_for(client))


@pytest.fixture
def world(settings, tmp_path: Path, people, run_tasks) -> dict[str, dict[str, object]]:
    """Route name -> URL parameters of an object the stranger has no part in."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.GENERATION_RUNS_ROOT = str(tmp_path / "runs")
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
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
    for name, (route, methods) in sorted(routes.items()):
        if name in NOT_OWNED:
            continue
        nobody = {key: (UNKNOWN if key == "public_id" else value) for key, value in world[name].items()}
        for method in methods:
            answers[(name, method)] = request(stranger, method, fill(route, world[name]), name).status_code
            unknown_id_answers[(name, method)] = request(stranger, method, fill(route, nobody), name).status_code
    expected = {key: PUBLIC_READS[key][0] if key in PUBLIC_READS and key[0] not in DRAFT_BACKED else 404
                for key in answers}
    wrong = {key: status for key, status in answers.items() if key not in ROLE_ONLY and status != expected[key]}
    assert not wrong, f"a stranger got the wrong answer: {wrong}"
    leaks = {key: (answers[key], unknown_id_answers[key]) for key in ROLE_ONLY
             if answers[key] != unknown_id_answers[key]}
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
        route, _ = routes[name]
        response = request(stranger, method, fill(route, public_values.get(name, world[name])), name)
        assert response.status_code == status, (name, why, response.status_code)
    before = snapshot()  # (a view of a published artwork counts towards its popularity)
    for name in ("artwork-detail", "artwork-publish", "artwork-withdraw", "artwork-listings"):
        route, methods = routes[name]
        for method in set(methods) - {"get"}:
            response = request(stranger, method, fill(route, published), name)
            assert response.status_code == 404, (name, method, response.status_code)
    assert snapshot() == before
