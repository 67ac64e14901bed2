"""Finding 11 (rest): a dataset upload is decoded by a job, not in the web request. The request checks sizes,
the zip directory and the image headers, stores the raw files and answers 202 with the dataset `processing`;
the job makes it `ready` (or `failed`, with the reason and the per-file report) and deletes the raw upload."""

from unittest import mock

import pytest
from django.core.files.storage import default_storage

from core import uploads
from core.jobs import JobState
from generation.models import Dataset, DatasetImage, DatasetProcessing, DatasetState, TrainingRun
from generation.services import dataset_process_now
from tests.generation.factories import labelled_zip, shape_image, stored_files, upload

URL = "/api/v1/datasets"
pytestmark = pytest.mark.django_db


def test_the_request_answers_202_processing_and_decodes_nothing(artist_client, generation_dirs):
    raw_zip = labelled_zip(per_class=3)
    with mock.patch("generation.services.datasets.image_clean", wraps=uploads.image_clean) as decode:
        response = upload(artist_client, {"shapes.zip": raw_zip}, process=False)
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["state"] == "processing" and body["image_count"] == 0
    assert body["rejected"] == [] and body["duplicates"] == []  # the report comes with the job's verdict
    assert response["Location"] == f"{URL}/{body['id']}"
    assert decode.call_count == 0
    dataset = Dataset.objects.get(public_id=body["id"])
    assert DatasetImage.objects.count() == 0
    job = DatasetProcessing.objects.get(dataset=dataset)
    assert job.state == JobState.QUEUED and job.task_id
    assert [item["name"] for item in job.uploads] == ["shapes.zip"]
    raw = job.uploads[0]["file"]
    assert raw.startswith(f"{dataset.storage_prefix}/upload/")
    assert default_storage.open(raw).read() == raw_zip  # the bytes as sent, not decoded
    assert artist_client.get(response["Location"]).json()["state"] == "processing"


def test_the_job_makes_the_dataset_ready_with_its_counts_and_deletes_the_raw_upload(
    artist_client, run_tasks, generation_dirs
):
    files = [
        ("a.png", shape_image(1)),
        ("b.png", shape_image(2)),
        ("again.png", shape_image(1)),
        ("notes.txt", b"text"),
    ]
    body = upload(artist_client, files, process=False).json()
    dataset = Dataset.objects.get(public_id=body["id"])
    raw = [item["file"] for item in dataset.processing.uploads]
    with mock.patch("generation.services.datasets.image_clean", wraps=uploads.image_clean) as decode:
        assert run_tasks(queues="default") == 1
    assert decode.call_count == 3  # the exact duplicate is caught before decoding
    dataset.refresh_from_db()
    assert dataset.state == DatasetState.READY and dataset.image_count == 2
    assert dataset.upload_report["duplicates"] == [{"name": "again.png", "duplicate_of": "a.png"}]
    assert [item["name"] for item in dataset.upload_report["rejected"]] == ["notes.txt"]
    assert dataset.processing.state == JobState.SUCCEEDED and dataset.processing.uploads == []
    assert not any(default_storage.exists(name) for name in raw)
    assert len(stored_files(generation_dirs["media"])) == 2
    shown = artist_client.get(f"{URL}/{body['id']}").json()
    assert shown["state"] == "ready" and shown["image_count"] == 2


def test_every_file_bad_ends_failed_with_the_report_and_no_image_files(artist_client, run_tasks, generation_dirs):
    body = upload(artist_client, [("a.txt", b"text"), ("b.png", b"")], process=False).json()
    assert run_tasks(queues="default") == 1
    dataset = Dataset.objects.get(public_id=body["id"])
    assert dataset.state == DatasetState.FAILED and dataset.failure_code == "no_usable_images"
    assert [item["name"] for item in dataset.upload_report["rejected"]] == ["a.txt", "b.png"]
    assert dataset.processing.state == JobState.FAILED  # bad input: not retried
    assert DatasetImage.objects.count() == 0 and stored_files(generation_dirs["media"]) == []


@pytest.mark.parametrize("state", ["processing", "failed"])
def test_training_on_a_dataset_that_is_not_ready_is_409(artist_client, tiny_config, generation_dirs, state):
    body = upload(artist_client, {"shapes.zip": labelled_zip(per_class=2)}, process=False).json()
    Dataset.objects.filter(public_id=body["id"]).update(state=state)
    for path in ("/api/v1/training-runs", "/api/v1/training-runs/estimate"):
        response = artist_client.post(path, {"dataset": body["id"], "config": tiny_config}, format="json")
        assert response.status_code == 409, (path, response.json())
        assert response.json()["code"] == "dataset_not_ready"
    assert not TrainingRun.objects.exists()


def test_a_job_that_gives_up_fails_the_dataset_and_deletes_the_raw_upload(artist_client, run_tasks, generation_dirs):
    body = upload(artist_client, {"a.png": shape_image(1)}, process=False).json()
    dataset = Dataset.objects.get(public_id=body["id"])
    DatasetProcessing.objects.filter(dataset=dataset).update(max_attempts=1)
    with mock.patch("generation.services.datasets._read_candidates", side_effect=OSError("storage is down")):
        run_tasks(queues="default")
    dataset.refresh_from_db()
    assert dataset.processing.state == JobState.FAILED and "storage is down" in dataset.processing.last_error
    assert dataset.state == DatasetState.FAILED and dataset.failure_code == "processing_error"
    assert stored_files(generation_dirs["media"]) == []


@pytest.mark.django_db(transaction=True)
def test_deleting_a_processing_dataset_removes_its_raw_upload(artist_client, generation_dirs):
    body = upload(artist_client, {"a.png": shape_image(1)}, process=False).json()
    assert len(stored_files(generation_dirs["media"])) == 1
    assert artist_client.delete(f"{URL}/{body['id']}").status_code == 204
    assert stored_files(generation_dirs["media"]) == [] and not DatasetProcessing.objects.exists()


def test_process_now_runs_the_job_in_process(artist_client, generation_dirs):
    body = upload(artist_client, {"shapes.zip": labelled_zip(per_class=2)}, process=False).json()
    dataset = dataset_process_now(dataset=Dataset.objects.get(public_id=body["id"]))
    assert dataset.state == DatasetState.READY and dataset.image_count == 4
