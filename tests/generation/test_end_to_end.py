"""Upload → train a tiny 32×32 model on the CPU → model version → generate → download → regenerate."""

import hashlib
import io

import pytest
from PIL import Image

from core.jobs import JobState
from core.models import DomainEvent
from generation import selectors, services
from generation.models import GenerationJob, ModelVersion, TrainingRun
from tests.generation.factories import labelled_zip, upload


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
def test_upload_train_generate_download_and_regenerate_through_the_api(
    artist_client, artist, run_tasks, tiny_config, meter
):
    dataset = upload(artist_client, {"shapes.zip": labelled_zip(per_class=4)}).json()
    created = artist_client.post(
        "/api/v1/training-runs", {"dataset": dataset["id"], "config": tiny_config}, format="json"
    )
    assert created.status_code == 202, created.json()
    run_id = created.json()["id"]
    assert created.json()["state"] == "queued"
    assert meter.calls == [("consume", "training", 1, f"training_run:{run_id}")]

    run_tasks()

    run = artist_client.get(f"/api/v1/training-runs/{run_id}").json()
    assert run["state"] == "succeeded", run["error"]
    assert run["progress"]["step"] == run["progress"]["total_steps"] == 6
    assert run["progress"]["start_steps"] == [0] and run["progress"]["checkpoint_step"] == 6
    assert set(run["progress"]["losses"]) == {"d_loss", "g_loss"}
    for url in (run["sample_grid_url"], run["loss_curve_url"]):
        image = artist_client.get(url)
        assert image.status_code == 200 and image["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(body_of(image))).format == "PNG"
    events = list(DomainEvent.objects.filter(user=artist).order_by("id").values_list("type", flat=True))
    assert events == ["training.started", "training.succeeded"]

    model = artist_client.get(f"/api/v1/models/{run['model_version']}").json()
    assert model["parity"]["passed"] is True and model["parity"]["max_abs_diff"] <= model["parity"]["tolerance"]
    assert model["lineage"]["dataset_hash"] == dataset["dataset_hash"]
    assert model["lineage"]["step"] == 6 and model["lineage"]["config"]["latent_dim"] == 16
    assert model["metrics"]["available"] is False and model["metrics"]["reason"]
    onnx = artist_client.get(model["onnx_url"])
    assert onnx.status_code == 200 and hashlib.sha256(body_of(onnx)).hexdigest() == model["onnx_sha256"]
    assert [row["id"] for row in artist_client.get("/api/v1/models").json()["results"]] == [model["id"]]

    job = artist_client.post(
        "/api/v1/generation-jobs", {"model": model["id"], "seeds": [11, 12, 13], "truncation": 0.8}, format="json"
    )
    assert job.status_code == 202, job.json()
    run_tasks()
    job = artist_client.get(f"/api/v1/generation-jobs/{job.json()['id']}").json()
    assert job["state"] == "succeeded" and job["produced"] == 3
    assert job["provider"] == "CPUExecutionProvider"
    assert [image["seed"] for image in job["images"]] == [11, 12, 13]
    assert artist_client.get(f"/api/v1/models/{model['id']}").json()["provider"] == "CPUExecutionProvider"

    first = job["images"][0]
    original = artist_client.get(first["original_url"])
    preview = artist_client.get(first["preview_url"])
    assert original["Content-Type"] == "image/png" and preview["Content-Type"] == "image/webp"
    png = body_of(original)
    assert hashlib.sha256(png).hexdigest() == first["sha256"]
    with Image.open(io.BytesIO(png)) as decoded:
        assert decoded.size == (32, 32)
    with Image.open(io.BytesIO(body_of(preview))) as decoded:
        assert decoded.format == "WEBP" and max(decoded.size) <= 32

    detail = artist_client.get(f"/api/v1/generated-images/{first['id']}").json()
    assert detail["lineage"]["dataset_hash"] == dataset["dataset_hash"] and detail["lineage"]["seed"] == 11
    image = selectors.generated_image_get(user=artist, public_id=first["id"])
    assert hashlib.sha256(services.regenerate_image_bytes(image=image)).hexdigest() == first["sha256"]
    events = list(DomainEvent.objects.filter(user=artist).order_by("id").values_list("type", flat=True))
    assert events[-1] == "generation.succeeded"
    assert TrainingRun.objects.get().state == JobState.SUCCEEDED and ModelVersion.objects.count() == 1
    assert GenerationJob.objects.get().units_refunded == 0
