"""One object of every kind, owned by an artist, a buyer and a commission client, made through the API and
the services as users make them: the ground the cross-user and list tests walk on."""

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.urls import URLResolver, get_resolver
from PIL import Image
from rest_framework.test import APIClient

from generation.models import GeneratedImage, TrainingRun
from generation.services import generation_job_create
from marketplace.accounts.services import api_key_create, user_set_avatar
from marketplace.webhooks import services as webhook_services
from provenance.models import ProvenanceRecord
from tests.generation.factories import TINY_CONFIG, install_model_version, labelled_zip
from tests.generation.factories import upload as upload_dataset
from tests.marketplace.commissions.helpers import accept, deliver, offer, png, post_brief
from tests.marketplace.gallery.helpers import buy
from tests.marketplace.gallery.helpers import upload as upload_artwork

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
OUR_APPS = {"accounts", "subscriptions", "gallery", "commissions", "webhooks", "generation", "provenance", "core"}
# Rows a request may touch whoever sends it: the caller's own token use.
BOOKKEEPING = {"accounts.authtoken"}


@dataclass(frozen=True)
class ApiRoute:
    name: str
    route: str  # e.g. "/api/v1/artworks/<uuid:public_id>"
    methods: tuple[str, ...]  # the HTTP methods its view implements
    view: type

    @property
    def addresses_an_object(self) -> bool:
        return "<" in self.route


def api_routes() -> dict[str, ApiRoute]:
    """Every /api/v1/ route of the URL configuration, by name."""
    routes: dict[str, ApiRoute] = {}

    def walk(patterns, prefix: str = "") -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            view = getattr(pattern.callback, "view_class", None)
            route = "/" + prefix + str(pattern.pattern)
            if route.startswith("/api/v1/") and view is not None:
                methods = tuple(method for method in HTTP_METHODS if hasattr(view, method))
                routes[pattern.name] = ApiRoute(name=pattern.name, route=route, methods=methods, view=view)

    walk(get_resolver().url_patterns)
    return routes


def fill(route: str, values: dict[str, object]) -> str:
    """`route` with its URL parameters replaced by `values`."""
    path = route
    for name, value in values.items():
        for converter in ("uuid", "int", "str"):
            path = path.replace(f"<{converter}:{name}>", str(value))
    assert "<" not in path, f"no value for a parameter of {route}"
    return path


@dataclass
class People:
    artist: Any
    buyer: Any
    client: Any
    as_artist: APIClient
    as_buyer: APIClient
    as_client: APIClient

    @classmethod
    def make(cls, make_user, client_for) -> "People":
        artist, buyer, client = make_user(role="artist"), make_user(role="buyer"), make_user(role="buyer")
        return cls(
            artist=artist,
            buyer=buyer,
            client=client,
            as_artist=client_for(artist),
            as_buyer=client_for(buyer),
            as_client=client_for(client),
        )


def snapshot() -> dict[str, list[tuple]]:
    """Every row of the project's tables (bookkeeping aside), to show a request changed nothing."""
    tables = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.app_label in OUR_APPS and label not in BOOKKEEPING and not model._meta.proxy:
            tables[label] = list(model.objects.order_by("pk").values_list())
    return tables


def private_media(settings, tmp_path: Path) -> None:
    """Media and training runs under the test's own folder; webhook URLs held to public addresses."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.GENERATION_RUNS_ROOT = str(tmp_path / "runs")
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False


def jpeg(color) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(out, format="JPEG")
    return out.getvalue()


def build_world(people: People, *, onnx_path: Path, run_tasks, seed: int = 0) -> dict[str, dict[str, object]]:
    """Route name -> URL parameters of one object of that kind. Call again (another `seed`) for more."""
    artist = people.artist
    as_artist, as_buyer, as_client = people.as_artist, people.as_buyer, people.as_client

    # generation: a model, a finished job with its image (run now, before anything else is queued)
    model = install_model_version(owner=artist, onnx_path=onnx_path)
    job = generation_job_create(user=artist, model_version=model, seeds=[1 + seed])
    assert run_tasks() >= 1
    image = GeneratedImage.objects.get(job=job)
    dataset = upload_dataset(as_artist, {"shapes.zip": labelled_zip(per_class=4 + seed)}).json()
    run = as_artist.post("/api/v1/training-runs", {"dataset": dataset["id"], "config": TINY_CONFIG}, format="json")
    assert run.status_code == 202, run.json()
    run = TrainingRun.objects.get(public_id=run.json()["id"])

    # gallery: a draft, a published artwork with a listing, a buyer's paid order
    draft = upload_artwork(as_artist, 1 + 10 * seed).json()
    published = upload_artwork(as_artist, 2 + 10 * seed).json()
    assert as_artist.post(f"/api/v1/artworks/{published['id']}/publish").status_code == 200
    listing = as_artist.post(
        f"/api/v1/artworks/{published['id']}/listings",
        {"licence_type": "personal", "price": 2_000, "currency": "USD"},
        format="json",
    ).json()
    order = buy(as_buyer, listing["id"])
    assert order.status_code == 201, order.json()
    record = ProvenanceRecord.objects.get(subject=f"gallery.artwork:{published['id']}")

    # commissions: an awarded brief with a reference image and a delivery
    brief = post_brief(as_client, references=[("ref.png", png(color=(200, 30, 90 + seed)))]).json()
    sent = offer(as_artist, brief["id"]).json()
    assert accept(as_client, sent["id"]).status_code == 200
    delivery = deliver(as_artist, brief["id"], png(color=(10 + seed, 30, 90))).json()

    # accounts, payments, webhooks
    key = api_key_create(user=artist, name=f"ci-{seed}", scopes=["profile:read"]).api_key
    user_set_avatar(user=artist, raw=jpeg((200, 10, 10 + seed)), filename="me.jpg")
    payment = as_buyer.get("/api/v1/payments").json()["results"][0]
    payout = as_artist.post("/api/v1/payouts", {"currency": "USD"}, format="json")
    assert payout.status_code == 201, payout.json()
    endpoint = webhook_services.webhook_endpoint_create(owner=artist, url=f"https://93.184.215.{14 + seed}/hooks")
    assert as_artist.post(f"/api/v1/webhooks/{endpoint.public_id}/test").status_code in (200, 202)
    webhook_delivery = endpoint.deliveries.get()

    own = {"public_id": None}
    return {
        "api-key-detail": own | {"public_id": key.public_id},
        "payment-detail": own | {"public_id": payment["id"]},
        "payout-detail": {"public_id": payout.json()["id"]},
        "artwork-detail": {"public_id": draft["id"]},
        "artwork-publish": {"public_id": draft["id"]},
        "artwork-withdraw": {"public_id": published["id"]},
        "artwork-preview": {"public_id": draft["id"]},
        "artwork-download-url": {"public_id": draft["id"]},
        "artwork-listings": {"public_id": draft["id"]},
        "listing-detail": {"public_id": listing["id"]},
        "listing-close": {"public_id": listing["id"]},
        "order-detail": {"public_id": order.json()["id"]},
        "order-pay": {"public_id": order.json()["id"]},
        "order-cancel": {"public_id": order.json()["id"]},
        "order-refund": {"public_id": order.json()["id"]},
        "commission-detail": {"public_id": brief["id"]},
        "commission-history": {"public_id": brief["id"]},
        "commission-cancel": {"public_id": brief["id"]},
        "commission-reference": {"public_id": brief["id"], "index": 0},
        "commission-offer-list": {"public_id": brief["id"]},
        "commission-delivery-list": {"public_id": brief["id"]},
        "commission-offer-detail": {"public_id": sent["id"]},
        "commission-offer-accept": {"public_id": sent["id"]},
        "commission-offer-decline": {"public_id": sent["id"]},
        "commission-offer-withdraw": {"public_id": sent["id"]},
        "commission-delivery-detail": {"public_id": delivery["id"]},
        "commission-delivery-accept": {"public_id": delivery["id"]},
        "commission-delivery-request-revision": {"public_id": delivery["id"]},
        "commission-delivery-image": {"public_id": delivery["id"], "index": 0},
        "webhook-detail": {"public_id": endpoint.public_id},
        "webhook-rotate-secret": {"public_id": endpoint.public_id},
        "webhook-test": {"public_id": endpoint.public_id},
        "webhook-deliveries": {"public_id": endpoint.public_id},
        "webhook-delivery-detail": {"public_id": webhook_delivery.public_id},
        "webhook-delivery-redeliver": {"public_id": webhook_delivery.public_id},
        "dataset-detail": {"public_id": dataset["id"]},
        "training-run-detail": {"public_id": run.public_id},
        "training-run-cancel": {"public_id": run.public_id},
        "training-run-pause": {"public_id": run.public_id},
        "training-run-resume": {"public_id": run.public_id},
        "training-run-sample-grid": {"public_id": run.public_id},
        "training-run-loss-curve": {"public_id": run.public_id},
        "model-version-detail": {"public_id": model.public_id},
        "model-version-onnx": {"public_id": model.public_id},
        "model-version-fine-tune": {"public_id": model.public_id},
        "model-version-performance": {"public_id": model.public_id},
        "generation-job-detail": {"public_id": job.public_id},
        "generation-job-cancel": {"public_id": job.public_id},
        "generated-image-detail": {"public_id": image.public_id},
        "generated-image-original": {"public_id": image.public_id},
        "generated-image-preview": {"public_id": image.public_id},
        "generated-image-curation": {"public_id": image.public_id},
        "user-avatar": {"public_id": artist.public_id},
        "artist-detail": {"public_id": artist.public_id},
        "provenance-certificate": {"public_id": record.public_id},
        "provenance-verify-hash": {"sha256": record.content_sha256},
        "_published_artwork": {"public_id": published["id"]},
        "_licence": {"public_id": order.json()["licence"]},
    }
