"""Every write endpoint, walked from the URL configuration as the owner of the object: malformed JSON and
unknown fields are a 400 problem+json (naming the field) and write nothing."""

from pathlib import Path

import pytest

from tests.generation.factories import export_tiny_onnx
from tests.marketplace.world import People, api_routes, build_world, fill, private_media, snapshot

WRITE_METHODS = ("post", "put", "patch")
# Routes not walked here, with why.
SKIPPED = {
    "stripe-webhook": "Stripe's signed events: tests/marketplace/subscriptions/test_stripe.py",
    "download": "a capability URL that takes no writes",
}
# Who owns (or may act on) the world's object of each route; routes without parameters act as the artist.
ACTOR = {
    "auth-logout": "throwaway",
    "auth-password": "throwaway",
    "order-pay": "buyer",
    "order-cancel": "buyer",
    "commission-cancel": "client",
    "commission-offer-accept": "client",
    "commission-offer-decline": "client",
    "commission-delivery-accept": "client",
    "commission-delivery-request-revision": "client",
    "order-refund": "staff",
}


@pytest.mark.django_db
def test_unknown_fields_and_malformed_json_are_400_everywhere(
    settings, tmp_path: Path, make_user, client_for, run_tasks
):
    private_media(settings, tmp_path)
    people = People.make(make_user, client_for)
    world = build_world(people, onnx_path=export_tiny_onnx(tmp_path / "onnx"), run_tasks=run_tasks)
    clients = {
        "artist": people.as_artist,
        "buyer": people.as_buyer,
        "client": people.as_client,
        "staff": client_for(make_user(role="staff")),
    }

    throwaway = {name: client_for(make_user(role="buyer")) for name in ("auth-logout", "auth-password")}
    before = snapshot()
    answers = {}
    for name, route in sorted(api_routes().items()):
        methods = [method for method in route.methods if method in WRITE_METHODS]
        if name in SKIPPED or not methods:
            continue
        path = fill(route.route, world.get(name, {}))
        actor = ACTOR.get(name, "artist")
        api = throwaway[name] if actor == "throwaway" else clients[actor]
        for method in methods:
            malformed = getattr(api, method)(path, data=b'{"title": ', content_type="application/json")
            unknown = getattr(api, method)(path, {"no_such_field": 1}, format="json")
            answers[(name, method)] = (
                malformed.status_code,
                unknown.status_code,
                unknown.json().get("errors", {}) if unknown.status_code == 400 else None,
            )
    walked = {name for name, _ in answers}
    assert {"artwork-publish", "auth-logout", "order-pay", "webhook-test", "dataset-list", "me"} <= walked
    multipart_only = {"provenance-verify", "me-avatar", "dataset-list"}  # JSON is the wrong media type there: 415
    wrong = {
        key: answer
        for key, answer in answers.items()
        if (
            answer[:2] != (400, 415)
            if key[0] in multipart_only
            else answer[0] != 400 or answer[1] != 400 or "no_such_field" not in (answer[2] or {})
        )
    }
    assert not wrong, f"(malformed, unknown field, errors) that are not 400 naming the field: {wrong}"
    assert snapshot() == before
