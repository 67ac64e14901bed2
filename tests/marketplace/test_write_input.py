"""Every write endpoint, walked from the URL configuration as the owner of the object: malformed JSON and
unknown fields are a 400 problem+json (naming the field) and write nothing."""

from pathlib import Path

import pytest
from django.urls import URLResolver, get_resolver

from tests.generation.factories import export_tiny_onnx
from tests.marketplace.test_object_access import snapshot
from tests.marketplace.world import People, build_world

WRITE_METHODS = ("post", "put", "patch")
# Routes not walked here, with why.
SKIPPED = {"stripe-webhook": "Stripe's signed events: tests/marketplace/subscriptions/test_stripe.py",
           "download": "a capability URL that takes no writes"}
# Who owns (or may act on) the world's object of each route; routes without parameters act as the artist.
ACTOR = {"auth-logout": "throwaway", "auth-password": "throwaway", "order-pay": "buyer", "order-cancel": "buyer",
         "commission-cancel": "client",
         "commission-offer-accept": "client", "commission-offer-decline": "client",
         "commission-delivery-accept": "client", "commission-delivery-request-revision": "client",
         "order-refund": "staff"}


def write_routes() -> dict[str, tuple[str, list[str]]]:
    routes = {}

    def walk(patterns, prefix: str = "") -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            route, view = prefix + str(pattern.pattern), getattr(pattern.callback, "view_class", None)
            methods = [method for method in WRITE_METHODS if view is not None and hasattr(view, method)]
            if route.startswith("api/v1/") and methods:
                routes[pattern.name] = ("/" + route, methods)

    walk(get_resolver().url_patterns)
    return routes


@pytest.mark.django_db
def test_unknown_fields_and_malformed_json_are_400_everywhere(settings, tmp_path: Path, make_user, client_for,
                                                               run_tasks):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.GENERATION_RUNS_ROOT = str(tmp_path / "runs")
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    artist, buyer, client = make_user(role="artist"), make_user(role="buyer"), make_user(role="buyer")
    people = People(artist=artist, buyer=buyer, client=client, as_artist=client_for(artist),
                    as_buyer=client_for(buyer), as_client=client_for(client))
    world = build_world(people, onnx_path=export_tiny_onnx(tmp_path / "onnx"), run_tasks=run_tasks)
    clients = {"artist": people.as_artist, "buyer": people.as_buyer, "client": people.as_client,
               "staff": client_for(make_user(role="staff"))}

    throwaway = {name: client_for(make_user(role="buyer")) for name in ("auth-logout", "auth-password")}
    before = snapshot()
    answers = {}
    for name, (route, methods) in sorted(write_routes().items()):
        path = route
        for key, value in world.get(name, {}).items():
            for converter in ("uuid", "int", "str"):
                path = path.replace(f"<{converter}:{key}>", str(value))
        if name in SKIPPED:
            continue
        actor = ACTOR.get(name, "artist")
        api = throwaway[name] if actor == "throwaway" else clients[actor]
        for method in methods:
            malformed = getattr(api, method)(path, data=b'{"title": ', content_type="application/json")
            unknown = getattr(api, method)(path, {"no_such_field": 1}, format="json")
            answers[(name, method)] = (malformed.status_code, unknown.status_code,
                                       unknown.json().get("errors", {}) if unknown.status_code == 400 else None)
    multipart_only = {"provenance-verify", "me-avatar"}  # well-formed JSON is the wrong media type there: 415
    wrong = {key: answer for key, answer in answers.items()
             if (answer[:2] != (400, 415) if key[0] in multipart_only
                 else answer[0] != 400 or answer[1] != 400 or "no_such_field" not in (answer[2] or {}))}
    assert not wrong, f"(malformed, unknown field, errors) that are not 400 naming the field: {wrong}"
    assert snapshot() == before
