"""Media in an S3 bucket (moto's server): uploads, checkpoints, sample grids, ONNX models, originals and previews
land in the bucket and nowhere in MEDIA_ROOT; training, generation and a fine-tune work end to end; and a worker
on a second "machine" (its own var dir, MEDIA_ROOT, runs folder and cache) that shares only the database and the
bucket completes a generation job."""

import hashlib
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.test import override_settings

from core.jobs import JobState
from generation import runtime
from generation.models import DatasetImage, GeneratedImage, GenerationJob, ModelVersion, TrainingRun
from tests.generation.factories import labelled_zip, stored_files, upload
from tests.helpers import REPO, run_queued_tasks


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def train(client, tiny_config) -> tuple[dict, TrainingRun]:
    dataset = upload(client, {"shapes.zip": labelled_zip(per_class=4)}).json()
    created = client.post("/api/v1/training-runs", {"dataset": dataset["id"], "config": tiny_config}, format="json")
    assert created.status_code == 202, created.json()
    run_queued_tasks(queues="training")
    run = TrainingRun.objects.get(public_id=created.json()["id"])
    assert run.state == JobState.SUCCEEDED, run.last_error
    return dataset, run


def generate(client, version: ModelVersion, seeds: list[int]) -> GenerationJob:
    response = client.post("/api/v1/generation-jobs", {"model": str(version.public_id), "seeds": seeds}, format="json")
    assert response.status_code == 202, response.json()
    return GenerationJob.objects.get(public_id=response.json()["id"])


@pytest.mark.django_db
def test_training_and_generation_keep_every_file_in_the_bucket(artist_client, s3_media, generation_dirs, tiny_config):
    dataset, run = train(artist_client, tiny_config)

    prefix = f"generation/datasets/{dataset['id']}/"
    images = list(DatasetImage.objects.filter(dataset__public_id=dataset["id"]))
    assert len(images) == 8 and s3_media.list_keys(prefix) == sorted(image.file.name for image in images)
    assert all(hashlib.sha256(s3_media.read(image.file.name)).hexdigest() == image.sha256 for image in images)

    version = ModelVersion.objects.get(training_run=run)
    assert s3_media.list_keys("generation/models/") == [version.onnx_file.name]
    assert hashlib.sha256(s3_media.read(version.onnx_file.name)).hexdigest() == version.onnx_sha256
    run_keys = s3_media.list_keys(f"generation/runs/{run.public_id}/")
    # one checkpoint: the one the row names (the step-3 copy was retired when step 6 was stored)
    assert [key for key in run_keys if "/checkpoints/" in key] == [run.checkpoint_file]
    assert run.checkpoint_file.endswith("step-0000006.pt")
    assert hashlib.sha256(s3_media.read(run.checkpoint_file)).hexdigest() == run.checkpoint_sha256
    assert f"generation/runs/{run.public_id}/{run.sample_grid}" in run_keys
    assert f"generation/runs/{run.public_id}/loss_curve.png" in run_keys

    job = generate(artist_client, version, [5, 6])
    run_queued_tasks(queues="generation")
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.produced == 2, job.last_error
    rows = list(GeneratedImage.objects.filter(job=job))
    assert s3_media.list_keys(f"generation/images/{job.public_id}/") == sorted(
        name for row in rows for name in (row.original.name, row.preview.name)
    )
    assert all(hashlib.sha256(s3_media.read(row.original.name)).hexdigest() == row.sha256 for row in rows)

    # the API serves what the bucket holds
    detail = artist_client.get(f"/api/v1/training-runs/{run.public_id}").json()
    assert artist_client.get(detail["sample_grid_url"]).status_code == 200
    onnx = artist_client.get(f"/api/v1/models/{version.public_id}/onnx")
    assert hashlib.sha256(body_of(onnx)).hexdigest() == version.onnx_sha256
    original = artist_client.get(f"/api/v1/generated-images/{rows[0].public_id}/original")
    assert hashlib.sha256(body_of(original)).hexdigest() == rows[0].sha256
    assert artist_client.get(f"/api/v1/generated-images/{rows[0].public_id}/preview").status_code == 200

    assert stored_files(generation_dirs["media"]) == []  # nothing on the local media filesystem
    cached = {path.name for path in stored_files(s3_media.cache_dir)}
    assert f"{version.onnx_sha256}.onnx" in cached  # written back and kept for the next job


@pytest.mark.django_db
def test_a_fine_tune_on_another_host_starts_from_the_checkpoint_in_the_bucket(
    artist_client, s3_media, tmp_path, tiny_config
):
    _, run = train(artist_client, tiny_config)
    version = ModelVersion.objects.get(training_run=run)
    job = generate(artist_client, version, [1, 2])
    run_queued_tasks(queues="generation")
    for image in GeneratedImage.objects.filter(job=job):
        artist_client.post(f"/api/v1/generated-images/{image.public_id}/curation", {"verdict": "keep"}, format="json")
    other = tmp_path / "host-b"
    with override_settings(
        MEDIA_ROOT=str(other / "media"), GENERATION_RUNS_ROOT=str(other / "runs"), MEDIA_CACHE_DIR=str(other / "cache")
    ):
        runtime.clear_caches()
        response = artist_client.post(
            f"/api/v1/models/{version.public_id}/fine-tune", {"config": {"steps": 3}}, format="json"
        )
        assert response.status_code == 202, response.json()
        run_queued_tasks(queues="training")
        child = TrainingRun.objects.get(public_id=response.json()["id"])
        assert child.state == JobState.SUCCEEDED, child.last_error
        assert (other / "cache").is_dir() and any(
            path.name == f"{run.checkpoint_sha256}.pt" for path in stored_files(other / "cache")
        )
        assert not (other / "runs" / str(run.public_id)).exists()  # the parent's folder never came here
    assert ModelVersion.objects.filter(training_run=child).exists()


@pytest.mark.django_db
def test_a_run_stopped_on_one_host_resumes_on_another_from_the_bucket(artist_client, s3_media, tmp_path, tiny_config):
    """Host A trains to its step-3 checkpoint and is stopped; host B, which cannot see A's runs folder, resumes
    from the stored checkpoint (not step 0) and finishes."""
    from generation.services import training

    real = training._Monitor.on_progress

    def stop_at_three(monitor, progress):
        if progress.step >= 3:
            monitor.stopping = True
        real(monitor, progress)

    dataset = upload(artist_client, {"shapes.zip": labelled_zip(per_class=4)}).json()
    run_id = artist_client.post(
        "/api/v1/training-runs", {"dataset": dataset["id"], "config": tiny_config}, format="json"
    ).json()["id"]
    with mock.patch.object(training._Monitor, "on_progress", stop_at_three):
        run_queued_tasks(queues="training")
    run = TrainingRun.objects.get(public_id=run_id)
    assert run.state == JobState.CANCELLED and run.checkpoint_step == 3
    assert s3_media.list_keys(f"generation/runs/{run_id}/checkpoints/") == [run.checkpoint_file]
    training.training_run_retry(run=run)

    other = tmp_path / "host-b"
    with override_settings(
        MEDIA_ROOT=str(other / "media"), GENERATION_RUNS_ROOT=str(other / "runs"), MEDIA_CACHE_DIR=str(other / "cache")
    ):
        run_queued_tasks(queues="training")
    run.refresh_from_db()
    assert run.state == JobState.SUCCEEDED, run.last_error
    assert run.start_steps == [0, 3] and run.step == 6
    assert s3_media.list_keys(f"generation/runs/{run_id}/checkpoints/") == [run.checkpoint_file]
    assert run.checkpoint_file.endswith("step-0000006.pt")
    assert ModelVersion.objects.filter(training_run=run).count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_sharing_only_the_database_and_the_bucket_completes_a_job(
    artist_client, s3_media, tmp_path, subprocess_env, tiny_config
):
    _, run = train(artist_client, tiny_config)
    version = ModelVersion.objects.get(training_run=run)
    job = generate(artist_client, version, [7, 8, 9])

    host = tmp_path / "machine-b"
    env = {
        **subprocess_env,
        **s3_media.env(),
        "ATELIER_VAR_DIR": str(host / "var"),
        "MEDIA_ROOT": str(host / "media"),
        "GENERATION_RUNS_ROOT": str(host / "runs"),
        "MEDIA_CACHE_DIR": str(host / "cache"),
        "OMP_NUM_THREADS": "1",
    }
    worker = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--queue-name",
            "generation",
            "--batch",
            "--interval",
            "0.1",
            "--no-startup-delay",
            "--no-reload",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr[-3000:]

    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.produced == 3, job.last_error
    rows = list(GeneratedImage.objects.filter(job=job).order_by("index"))
    assert [row.seed for row in rows] == [7, 8, 9]
    assert all(hashlib.sha256(s3_media.read(row.original.name)).hexdigest() == row.sha256 for row in rows)
    assert stored_files(host / "media") == []  # machine B wrote its results to the bucket, not to disk
    assert [path.name for path in stored_files(host / "cache")] == [f"{version.onnx_sha256}.onnx"]
    # what B drew is what this host draws from the same record
    from generation.services import regenerate_image_bytes

    assert hashlib.sha256(regenerate_image_bytes(image=rows[0])).hexdigest() == rows[0].sha256
    assert Path(host / "var").is_dir()
