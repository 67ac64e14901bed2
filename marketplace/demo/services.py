"""First-start demo content for `make run`: so a newcomer sees every part working.

`demo_bootstrap` (run by `bootstrap_demo` on an empty database) creates a demo artist and buyer, puts the
artist on the studio plan, uploads the procedural landscapes the shipped demo model was trained on
(generation.demo), registers that model as the artist's first model version and queues a generation job from
it at once; it also queues a fresh training run on the same images, so the pipeline shows itself working —
then returns, so the server is usable at once. The periodic `demo_advance` moves the demo on as the worker
finishes each stage: when the images exist it publishes them as artworks (registered with provenance and
anchored by the chain queue), lists them, and has the buyer buy one licence. Without a usable shipped model
(or with DEMO_SHIPPED_MODEL off) the demo waits for the fresh run and generates from it instead. Every step is
idempotent and resumes after a restart.
"""

import io
import logging
import secrets
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from generation import selectors as generation_selectors
from generation import services as generation
from generation.demo import DATASET_RECIPE, DemoModelError, load_demo_model
from generation.gan.procedural import write_landscapes
from marketplace.demo import conf
from marketplace.demo.models import DemoRun, DemoStep
from marketplace.gallery import services as gallery
from marketplace.subscriptions import services as subscriptions

logger = logging.getLogger("atelier.demo")

DEMO_ARTIST_EMAIL = "artist@atelier.localhost"
DEMO_BUYER_EMAIL = "buyer@atelier.localhost"
# The fresh run that shows the pipeline: small enough to train in a few minutes on two CPU cores.
DEMO_TRAINING_CONFIG = {
    "arch": "dcgan",
    "resolution": 32,
    "g_channels": 32,
    "d_channels": 32,
    "batch_size": 32,
    "sample_every": 200,
    "checkpoint_every": 200,
    "log_every": 20,
}
DEMO_IMAGES = 6
DEMO_TITLES = ("Quiet Orbit", "Amber Drift", "Small Weather", "Night Garden", "Paper Tide", "First Light")


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    password: str


def _landscapes_zip() -> SimpleUploadedFile:
    """The shipped model's training images, drawn again from their recipe (same arguments, same bytes)."""
    with tempfile.TemporaryDirectory() as folder:
        root = write_landscapes(
            out_dir=Path(folder) / "landscapes",
            count=DATASET_RECIPE["count"],
            seed=DATASET_RECIPE["seed"],
            side=DATASET_RECIPE["side"],
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*.png")):
                archive.write(path, path.relative_to(root).as_posix())
    return SimpleUploadedFile("landscapes.zip", buffer.getvalue(), content_type="application/zip")


def _shipped_model_version(*, artist: Any, dataset: Any) -> Any | None:
    """The shipped demo model as the artist's model version, or None (and why, in the log) if unusable."""
    if not conf.get("DEMO_SHIPPED_MODEL"):
        return None
    try:
        demo = load_demo_model()
        source = {
            "shipped": "generation/demo/model.onnx",
            "command": demo.metadata["command"],
            "git_commit": demo.metadata["git_commit"],
            "onnx_sha256": demo.sha256,
            "parity_max_abs_diff": demo.metadata.get("parity_max_abs_diff") or 0.0,
        }
        return generation.model_version_import(
            owner=artist, dataset=dataset, onnx_path=demo.path, source=source, name="Landscapes (shipped demo model)"
        )
    except (DemoModelError, generation.ModelImportError) as exc:
        logger.warning("demo: the shipped model cannot be used (%s); the demo waits for its fresh training run", exc)
        return None


def _user(*, email: str, role: str, display_name: str) -> DemoAccount:
    password = secrets.token_urlsafe(12)
    get_user_model().objects.create_user(email=email, password=password, role=role, display_name=display_name)
    return DemoAccount(role=role, email=email, password=password)


def demo_bootstrap() -> list[DemoAccount]:
    """Create the demo accounts and queue the demo's training run. Call once, on an empty database."""
    if DemoRun.objects.exists():
        return []
    artist = _user(email=DEMO_ARTIST_EMAIL, role="artist", display_name="Demo Artist")
    buyer = _user(email=DEMO_BUYER_EMAIL, role="buyer", display_name="Demo Buyer")
    artist_user = get_user_model().objects.get(email=artist.email)
    subscriptions.subscription_change_plan(user=artist_user, plan="studio", payment_method="tok_visa")
    upload = generation.dataset_create(owner=artist_user, name="Landscapes (demo)", files=[_landscapes_zip()])
    dataset = generation.dataset_process_now(dataset=upload.dataset)  # a command, not a request: decode here
    shipped = _shipped_model_version(artist=artist_user, dataset=dataset)
    job = None
    if shipped is not None:  # art at once: generate from the shipped model before anything trains
        job = generation.generation_job_create(
            user=artist_user, model_version=shipped, seeds=list(range(1, DEMO_IMAGES + 1))
        )
    config = DEMO_TRAINING_CONFIG | {"steps": conf.get("DEMO_TRAINING_STEPS")}
    run = generation.training_run_create(owner=artist_user, dataset=dataset, config=config)
    DemoRun.objects.create(
        artist=artist_user,
        buyer=get_user_model().objects.get(email=buyer.email),
        training_run_id=run.public_id,
        step=DemoStep.TRAINING if job is None else DemoStep.GENERATING,
        generation_job_id=None if job is None else job.public_id,
    )
    return [artist, buyer]


def _finish(demo: DemoRun, *, step: str, detail: str = "") -> None:
    DemoRun.objects.filter(pk=demo.pk).update(step=step, detail=detail, finished_at=timezone.now())


def _after_training(demo: DemoRun) -> None:
    run = generation_selectors.training_run_get(user=demo.artist, public_id=demo.training_run_id)
    if run.state in ("failed", "cancelled"):
        _finish(demo, step=DemoStep.FAILED, detail=f"training run {run.state}: {run.last_error}")
    elif run.state == "succeeded":
        model = generation_selectors.model_versions_for(user=demo.artist).filter(training_run=run).first()
        with transaction.atomic():
            job = generation.generation_job_create(
                user=demo.artist, model_version=model, seeds=list(range(1, DEMO_IMAGES + 1))
            )
            DemoRun.objects.filter(pk=demo.pk).update(step=DemoStep.GENERATING, generation_job_id=job.public_id)


def _after_generation(demo: DemoRun) -> None:
    job = generation_selectors.generation_job_get(user=demo.artist, public_id=demo.generation_job_id)
    if job.state in ("failed", "cancelled"):
        _finish(demo, step=DemoStep.FAILED, detail=f"generation job {job.state}: {job.last_error}")
        return
    if job.state != "succeeded":
        return
    images = list(generation_selectors.generated_images_for(user=demo.artist, job=job).order_by("id"))
    published = []
    for index, image in enumerate(images):
        artwork = gallery.artwork_create_from_generated(
            artist=demo.artist,
            generated_image_id=image.public_id,
            title=DEMO_TITLES[index % len(DEMO_TITLES)],
            description="Drawn by a GAN trained on landscapes the project paints itself.",
            tags=["demo", "landscape"],
            style="landscape",
        )
        artwork = gallery.artwork_publish(artist=demo.artist, artwork=artwork)
        gallery.listing_create(artist=demo.artist, artwork=artwork, licence_type="personal", price=500, currency="USD")
        gallery.listing_create(
            artist=demo.artist, artwork=artwork, licence_type="commercial", price=2500, currency="USD"
        )
        published.append(artwork)
    first = (
        gallery.listing_create(
            artist=demo.artist, artwork=published[0], licence_type="exclusive", price=9900, currency="USD"
        )
        if published
        else None
    )
    if first is not None:
        order = gallery.order_create(buyer=demo.buyer, listing=first)
        gallery.order_pay(buyer=demo.buyer, order=order, payment_method="tok_visa")
    DemoRun.objects.filter(pk=demo.pk).update(artworks=[str(a.public_id) for a in published])
    _finish(demo, step=DemoStep.DONE, detail=f"published {len(published)} artworks; one exclusive licence sold")


def demo_advance() -> str:
    """Move the demo one stage on if the worker finished the current one. Cheap when there is nothing to do."""
    demo = DemoRun.objects.select_related("artist", "buyer").filter(finished_at__isnull=True).first()
    if demo is None:
        return "idle"
    try:
        if demo.step == DemoStep.TRAINING:
            _after_training(demo)
        elif demo.step == DemoStep.GENERATING:
            _after_generation(demo)
    except Exception as exc:  # the demo must never wedge the scheduler; it records why it stopped
        logger.exception("demo stopped")
        _finish(demo, step=DemoStep.FAILED, detail=f"{type(exc).__name__}: {exc}")
    return DemoRun.objects.get(pk=demo.pk).step
