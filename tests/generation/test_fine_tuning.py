"""Fine-tuning from curated images: a new dataset version with lineage to its parent dataset and model, the
kept images in it and the rejected ones never, the parent untouched, D's frozen blocks frozen, and a resumed
fine-tune identical to an uninterrupted one."""

import hashlib
from pathlib import Path

import pytest
import torch

from generation.conf import run_directory
from generation.gan.checkpoint import load_checkpoint
from generation.gan.config import GANConfig
from generation.models import Dataset, DatasetImage, GeneratedImage, ModelVersion, TrainingRun
from generation.services.finetuning import fine_tune_create, parent_checkpoint
from generation.services.training import _trainer_for, dataset_prepare
from tests.generation.factories import TINY_CONFIG, labelled_zip, upload
from tests.helpers import run_queued_tasks


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def curated(artist_client):
    """A trained parent and four of its images: two kept, one rejected, one not curated."""
    dataset = upload(artist_client, {"shapes.zip": labelled_zip(per_class=4)}).json()["id"]
    artist_client.post("/api/v1/training-runs", {"dataset": dataset, "config": TINY_CONFIG}, format="json")
    run_queued_tasks(queues="training,generation")
    version = ModelVersion.objects.get()
    artist_client.post(
        "/api/v1/generation-jobs", {"model": str(version.public_id), "seeds": [1, 2, 3, 4]}, format="json"
    )
    run_queued_tasks(queues="training,generation")
    images = list(GeneratedImage.objects.order_by("index"))
    assert len(images) == 4
    for image, verdict in zip(images, ["keep", "keep", "reject", "none"], strict=True):
        response = artist_client.post(
            f"/api/v1/generated-images/{image.public_id}/curation", {"verdict": verdict}, format="json"
        )
        assert response.status_code == 200
    return {"version": version, "kept": images[:2], "rejected": images[2], "uncurated": images[3]}


def fine_tune(client, version, **body):
    return client.post(f"/api/v1/models/{version.public_id}/fine-tune", body, format="json")


@pytest.mark.django_db
def test_a_fine_tune_records_lineage_uses_kept_images_only_and_leaves_the_parent_untouched(artist_client, curated):
    version = curated["version"]
    parent_run, parent_dataset = version.training_run, version.training_run.dataset
    parent_images = set(parent_dataset.images.values_list("sha256", flat=True))
    before = {
        "onnx": sha256(version.onnx_file.path),
        "checkpoint": sha256(parent_checkpoint(model_version=version)),
        "dataset": parent_dataset.dataset_hash,
        "images": parent_dataset.image_count,
    }

    response = fine_tune(artist_client, version, config={"steps": 4})
    body = response.json()
    assert response.status_code == 202, body
    run = TrainingRun.objects.get(public_id=body["id"])
    assert run.init_from == version and run.config["steps"] == 4
    child = run.dataset
    assert child.parent == parent_dataset and child.parent_model_version == version
    child_images = set(child.images.values_list("sha256", flat=True))
    assert child_images == parent_images | {image.sha256 for image in curated["kept"]}
    assert curated["rejected"].sha256 not in child_images and curated["uncurated"].sha256 not in child_images
    assert not DatasetImage.objects.filter(sha256=curated["rejected"].sha256).exists()  # in no dataset at all
    assert child.image_count == len(parent_images) + 2 and child.dataset_hash != parent_dataset.dataset_hash
    shown_dataset = artist_client.get(f"/api/v1/datasets/{child.public_id}").json()
    assert shown_dataset["parent"] == str(parent_dataset.public_id)
    assert shown_dataset["parent_model"] == str(version.public_id)
    assert artist_client.get(f"/api/v1/datasets/{parent_dataset.public_id}").json()["parent"] is None

    run_queued_tasks(queues="training,generation")
    run.refresh_from_db()
    assert run.state == "succeeded", run.last_error
    child_model = ModelVersion.objects.get(training_run=run)
    shown = artist_client.get(f"/api/v1/models/{child_model.public_id}").json()
    assert shown["lineage"]["parent_model"] == str(version.public_id)
    assert shown["lineage"]["parent_dataset"] == str(parent_dataset.public_id)
    assert shown["lineage"]["dataset"] == str(child.public_id) and shown["sample_grid_url"]
    assert "available" in shown["metrics"]
    # the parent: same files, same rows
    version.refresh_from_db()
    parent_dataset.refresh_from_db()
    assert sha256(version.onnx_file.path) == before["onnx"] == version.onnx_sha256
    assert sha256(parent_checkpoint(model_version=version)) == before["checkpoint"]
    assert (parent_dataset.dataset_hash, parent_dataset.image_count) == (before["dataset"], before["images"])
    assert TrainingRun.objects.get(pk=parent_run.pk).step == parent_run.step


@pytest.mark.django_db
def test_frozen_discriminator_blocks_keep_the_parents_weights(artist_client, curated):
    version = curated["version"]
    body = fine_tune(artist_client, version, freeze_d_blocks=1, config={"steps": 3}).json()
    run_queued_tasks(queues="training,generation")
    run = TrainingRun.objects.get(public_id=body["id"])
    assert run.state == "succeeded", run.last_error
    parent = load_checkpoint(parent_checkpoint(model_version=version))["discriminator"]
    child = load_checkpoint(run_directory(run.public_id) / "checkpoints" / "latest.pt")["discriminator"]
    first = [name for name in parent if name.startswith("features.0.")]
    later = [name for name in parent if name.startswith("head.")]
    assert first and later
    assert all(torch.equal(parent[name], child[name]) for name in first)
    assert not all(torch.equal(parent[name], child[name]) for name in later)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body,field",
    [
        ({"config": {"resolution": 64}}, "config.resolution"),
        ({"freeze_d_blocks": -1}, "freeze_d_blocks"),
        ({"freeze_d_blocks": 8}, "freeze_d_blocks"),  # the 32 px DCGAN discriminator has 3 blocks
        ({"config": {"lr_g": 9.0}}, "config.lr_g"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_a_bad_fine_tune_is_400_and_writes_nothing(artist_client, curated, body, field):
    datasets, runs = Dataset.objects.count(), TrainingRun.objects.count()
    response = fine_tune(artist_client, curated["version"], **body)
    assert response.status_code == 400 and field in response.json()["errors"], response.json()
    assert (Dataset.objects.count(), TrainingRun.objects.count()) == (datasets, runs)


@pytest.mark.django_db
def test_nothing_kept_is_400(artist_client, curated):
    GeneratedImage.objects.update(curation="")
    response = fine_tune(artist_client, curated["version"])
    assert response.status_code == 400 and response.json()["code"] == "nothing_kept"


@pytest.mark.django_db
def test_a_resumed_fine_tune_is_bit_for_bit_the_uninterrupted_one(artist, curated):
    version = curated["version"]

    def trainer_of(run):
        config = GANConfig.from_dict(run.config)
        prepared = dataset_prepare(dataset=run.dataset, resolution=config.resolution)
        return _trainer_for(run=run, config=config, prepared=prepared, directory=run_directory(run.public_id))

    options = {"freeze_d_blocks": 1, "config": {"steps": 6, "checkpoint_every": 2}}
    straight = fine_tune_create(owner=artist, model_version=version, **options)
    interrupted = fine_tune_create(owner=artist, model_version=version, **options)
    whole = trainer_of(straight)
    assert whole.run().completed
    first = trainer_of(interrupted)
    assert first.run(max_steps=3).reason == "paused"
    resumed = trainer_of(interrupted)  # from its own checkpoint, not the parent's
    assert resumed.step == 3 and resumed.run().completed
    for name in ("generator", "generator_ema", "discriminator"):
        a, b = getattr(whole, name).state_dict(), getattr(resumed, name).state_dict()
        assert all(torch.equal(a[key], b[key]) for key in a), name
