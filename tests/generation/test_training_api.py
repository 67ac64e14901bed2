import threading
import time

import numpy as np
import pytest
import torch
from django.db import connection

from core.jobs import JobState, sweep_stale_jobs
from core.models import DomainEvent
from generation.conf import run_directory
from generation.gan import export as gan_export
from generation.metering import Limits
from generation.models import ModelVersion, TrainingRun
from generation.services import generation_settle_finished
from tests.generation.factories import labelled_zip, shape_image, upload
from tests.helpers import run_queued_tasks

URL = "/api/v1/training-runs"


@pytest.fixture
def dataset_id(artist_client) -> str:
    return upload(artist_client, {"shapes.zip": labelled_zip(per_class=4)}).json()["id"]


def start(client, dataset_id, config):
    return client.post(URL, {"dataset": dataset_id, "config": config}, format="json")


def event_types(user) -> list[str]:
    return list(DomainEvent.objects.filter(user=user).order_by("id").values_list("type", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"steps": 0}, "config.steps"),
        ({"steps": 2_000_000}, "config.steps"),
        ({"resolution": 48}, "config.resolution"),
        ({"lr_g": 5.0}, "config.lr_g"),
        ({"batch_size": "big"}, "config.batch_size"),
        ({"loss": "wasserstein"}, "config.loss"),
        ({"no_such_setting": 1}, "config.no_such_setting"),
        ({"conditional": True, "num_classes": 5}, "config.num_classes"),
    ],
)
def test_config_out_of_bounds_is_400_naming_the_field(artist_client, dataset_id, meter, overrides, field):
    response = start(artist_client, dataset_id, overrides)
    body = response.json()
    assert response.status_code == 400, body
    assert field in body["errors"], body
    assert TrainingRun.objects.count() == 0 and meter.calls == []


@pytest.mark.django_db
def test_resolution_above_the_plans_cap_is_402_naming_the_limit(artist_client, dataset_id, meter):
    meter.reset(plan=Limits(max_resolution=32))
    response = start(artist_client, dataset_id, {"resolution": 64})
    body = response.json()
    assert response.status_code == 402 and body["limit"] == 32 and "config.resolution" in body["errors"]
    assert TrainingRun.objects.count() == 0
    assert start(artist_client, dataset_id, {"resolution": 32}).status_code == 202


@pytest.mark.django_db
def test_creating_a_run_consumes_one_training_unit_and_queues_it_on_the_gpu_queue(
    artist_client, dataset_id, meter, tiny_config
):
    from django_tasks_db.models import DBTaskResult

    response = start(artist_client, dataset_id, tiny_config)
    assert response.status_code == 202
    body = response.json()
    assert body["state"] == "queued" and body["config"]["latent_dim"] == 16 and body["config"]["loss"] == "bce"
    assert meter.calls == [("consume", "training", 1, f"training_run:{body['id']}")]
    task = DBTaskResult.objects.ready().get()  # the dataset's processing task has run already
    assert task.queue_name == "training" and task.task_path == "generation.tasks.run_training_run"


@pytest.mark.django_db
def test_conditional_run_takes_its_class_count_from_the_dataset(artist_client, dataset_id, tiny_config):
    body = start(artist_client, dataset_id, {**tiny_config, "conditional": True}).json()
    assert body["config"]["num_classes"] == 2


@pytest.mark.django_db
def test_without_quota_nothing_is_created(artist_client, dataset_id, meter, tiny_config):
    meter.reset(balance={"training": 0})
    response = start(artist_client, dataset_id, tiny_config)
    assert response.status_code == 429
    assert TrainingRun.objects.count() == 0


@pytest.mark.django_db
def test_another_users_dataset_and_run_are_404(artist_client, client_for, make_user, dataset_id, tiny_config):
    other = client_for(make_user(role="artist"))
    assert start(other, dataset_id, tiny_config).status_code == 404
    run_id = start(artist_client, dataset_id, tiny_config).json()["id"]
    assert other.get(f"{URL}/{run_id}").status_code == 404
    assert other.post(f"{URL}/{run_id}/cancel").status_code == 404
    assert other.get(f"{URL}/{run_id}/sample-grid").status_code == 404
    assert TrainingRun.objects.get().state == JobState.QUEUED
    assert other.get(URL).json()["results"] == []


@pytest.mark.django_db
def test_unauthenticated_is_401(api):
    assert api.get(URL).status_code == 401
    assert api.post(URL, {}, format="json").status_code == 401


@pytest.mark.django_db
def test_cancelling_a_queued_run_refunds_its_unit_and_it_never_runs(
    artist_client, artist, dataset_id, meter, tiny_config, run_tasks
):
    run_id = start(artist_client, dataset_id, tiny_config).json()["id"]
    response = artist_client.post(f"{URL}/{run_id}/cancel")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert response.json()["units_refunded"] == 1
    assert meter.total("refund", "training", f"training_run:{run_id}") == 1
    run_tasks()
    run = TrainingRun.objects.get()
    assert run.state == JobState.CANCELLED and run.step == 0 and run.attempts == 0
    assert event_types(artist) == ["training.cancelled"]
    again = artist_client.post(f"{URL}/{run_id}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_running_run_stops_it_at_a_checkpoint_and_refunds(
    artist_client, artist, dataset_id, meter, tiny_config
):
    run_id = start(artist_client, dataset_id, {**tiny_config, "steps": 100_000, "checkpoint_every": 1000}).json()["id"]

    def worker():
        try:
            run_queued_tasks()
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while TrainingRun.objects.get().step < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        response = artist_client.post(f"{URL}/{run_id}/cancel")
        assert response.status_code == 200 and response.json()["cancel_requested"] is True
    finally:
        thread.join(timeout=120)
    run = TrainingRun.objects.get()
    assert run.state == JobState.CANCELLED, run.last_error
    assert 3 <= run.step < 100_000 and run.checkpoint_step == run.step
    assert (run_directory(run.public_id) / "checkpoints" / "latest.pt").is_file()
    assert meter.total("refund", "training", f"training_run:{run_id}") == 1
    assert event_types(artist) == ["training.started", "training.cancelled"]
    assert ModelVersion.objects.count() == 0


@pytest.mark.django_db
def test_an_export_failing_parity_fails_the_run_for_good_with_the_measured_difference(
    artist_client, artist, dataset_id, meter, tiny_config, run_tasks, monkeypatch
):
    real_to_onnx = gan_export.to_onnx

    def skewed_to_onnx(generator):
        import copy

        skewed = copy.deepcopy(generator)
        with torch.no_grad():
            for parameter in skewed.parameters():
                parameter.add_(0.05)
        return real_to_onnx(skewed)  # the file no longer computes what the torch module does

    monkeypatch.setattr(gan_export, "to_onnx", skewed_to_onnx)
    run_id = start(artist_client, dataset_id, tiny_config).json()["id"]
    run_tasks()
    body = artist_client.get(f"{URL}/{run_id}").json()
    assert body["state"] == "failed" and body["attempts"] == 1
    assert "parity" in body["error"] and "differs from torch by" in body["error"]
    assert "max |diff|" in body["error"]
    assert ModelVersion.objects.count() == 0
    assert meter.total("refund", "training", f"training_run:{run_id}") == 1
    assert event_types(artist) == ["training.started", "training.failed"]
    failed = DomainEvent.objects.get(type="training.failed")
    assert "differs from torch by" in failed.payload["error"]


@pytest.mark.django_db
def test_the_reconciler_settles_a_run_the_sweeper_failed(
    artist_client, artist, dataset_id, meter, tiny_config, settings
):
    from datetime import timedelta

    from django.utils import timezone

    run_id = start(artist_client, dataset_id, tiny_config).json()["id"]
    stale = timezone.now() - settings.JOB_STALE_AFTER - timedelta(seconds=1)
    TrainingRun.objects.update(state=JobState.RUNNING, attempts=3, max_attempts=3, heartbeat_at=stale)
    assert sweep_stale_jobs()["failed"] == 1
    assert generation_settle_finished() == {"training_runs": 1, "generation_jobs": 0, "dataset_uploads": 0}
    assert generation_settle_finished() == {"training_runs": 0, "generation_jobs": 0, "dataset_uploads": 0}
    assert meter.total("refund", "training", f"training_run:{run_id}") == 1
    assert event_types(artist) == ["training.failed"]


@pytest.mark.django_db
def test_buyers_cannot_start_training(user_client, client_for, artist):
    assert user_client.post(URL, {"dataset": "00000000-0000-0000-0000-000000000000"}, format="json").status_code == 403


@pytest.mark.django_db
def test_run_images_are_404_before_any_exist(artist_client, dataset_id, tiny_config):
    run_id = start(artist_client, dataset_id, tiny_config).json()["id"]
    assert artist_client.get(f"{URL}/{run_id}/loss-curve").status_code == 404
    assert artist_client.get(f"{URL}/{run_id}").json()["sample_grid_url"] is None


@pytest.mark.django_db
def test_a_dataset_of_a_single_image_trains_unconditionally(artist_client, run_tasks, tiny_config):
    dataset = upload(artist_client, {"one.png": shape_image(1)}).json()["id"]
    run_id = start(artist_client, dataset, {**tiny_config, "steps": 2}).json()["id"]
    run_tasks()
    assert artist_client.get(f"{URL}/{run_id}").json()["state"] == "succeeded"


@pytest.mark.django_db
def test_fid_and_kid_are_recorded_when_a_feature_extractor_is_available(
    artist_client, dataset_id, tiny_config, run_tasks, monkeypatch
):
    # The InceptionV3 weights are not on this machine; any extractor of the same contract exercises the wiring.
    def colour_statistics(images):  # [N, H, W, 3] uint8 -> [N, 6]
        pixels = images.reshape(len(images), -1, 3).astype("float64")
        return np.concatenate([pixels.mean(axis=1), pixels.std(axis=1)], axis=1)

    monkeypatch.setattr("generation.services.training.inception_extractor", lambda weights: colour_statistics)
    run_id = start(artist_client, dataset_id, {**tiny_config, "steps": 2}).json()["id"]
    run_tasks()
    model_id = artist_client.get(f"{URL}/{run_id}").json()["model_version"]
    metrics = artist_client.get(f"/api/v1/models/{model_id}").json()["metrics"]
    assert metrics["available"] is True and metrics["num_real"] == metrics["num_fake"] == 8
    assert metrics["fid"] > 0 and metrics["kid"] is not None
