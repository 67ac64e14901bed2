"""Pausing training runs at checkpoint boundaries and resuming them exactly (API, admin, drain command), and the
pool's multi-process runs (GENERATION_TRAIN_PROCS)."""

import threading
import time

import pytest
import torch
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from core.jobs import JobState
from core.models import DomainEvent
from generation.conf import run_directory
from generation.gan.trainer import load_checkpoint
from generation.models import ModelVersion, TrainingRun, TrainingState
from tests.generation.factories import labelled_zip, upload
from tests.helpers import run_queued_tasks

URL = "/api/v1/training-runs"


@pytest.fixture
def dataset_id(artist_client) -> str:
    return upload(artist_client, {"shapes.zip": labelled_zip(per_class=4)}).json()["id"]


def start(client, dataset_id, config) -> str:
    response = client.post(URL, {"dataset": dataset_id, "config": config}, format="json")
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def checkpoint(run_id: str) -> dict:
    return load_checkpoint(run_directory(run_id) / "checkpoints" / "latest.pt")


def assert_same_training(run_id: str, reference_id: str) -> None:
    got, expected = checkpoint(run_id), checkpoint(reference_id)
    assert got["step"] == expected["step"]
    for name, values in expected["history"].items():
        assert torch.equal(got["history"][name], values), name
    for name, tensor in expected["generator_ema"].items():
        assert torch.equal(got["generator_ema"][name], tensor), name


@pytest.mark.django_db
def test_a_queued_run_pauses_at_once_and_resume_queues_it_to_finish(
    artist_client, artist, dataset_id, meter, tiny_config, run_tasks
):
    run_id = start(artist_client, dataset_id, tiny_config)
    paused = artist_client.post(f"{URL}/{run_id}/pause")
    assert paused.status_code == 200 and paused.json()["state"] == "paused" and paused.json()["paused_at"]
    run_tasks()  # the queued task finds the run paused and leaves it
    run = TrainingRun.objects.get()
    assert run.state == TrainingState.PAUSED and run.attempts == 0 and run.settled_at is None
    again = artist_client.post(f"{URL}/{run_id}/pause")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert again["Content-Type"].startswith("application/problem+json")

    resumed = artist_client.post(f"{URL}/{run_id}/resume")
    assert resumed.status_code == 200 and resumed.json()["state"] == "queued"
    run_tasks()
    run.refresh_from_db()
    assert run.state == JobState.SUCCEEDED and run.step == tiny_config["steps"]
    assert meter.total("refund", "training", f"training_run:{run_id}") == 0
    types = list(DomainEvent.objects.filter(user=artist).order_by("id").values_list("type", flat=True))
    assert types == ["training.paused", "training.resumed", "training.started", "training.succeeded"]


@pytest.mark.django_db(transaction=True)
def test_pause_stops_at_a_checkpoint_and_resume_finishes_as_an_uninterrupted_run(
    artist_client, dataset_id, tiny_config
):
    config = {**tiny_config, "steps": 30, "checkpoint_every": 3, "sample_every": 1000, "log_every": 1}
    reference = start(artist_client, dataset_id, config)
    run_queued_tasks()
    assert TrainingRun.objects.get(public_id=reference).state == JobState.SUCCEEDED

    run_id = start(artist_client, dataset_id, config)
    run = TrainingRun.objects.get(public_id=run_id)

    def worker():
        try:
            run_queued_tasks()
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while TrainingRun.objects.get(pk=run.pk).step < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        asked = artist_client.post(f"{URL}/{run_id}/pause")
        assert asked.status_code == 200, asked.json()
        body = asked.json()
        assert body["state"] in ("running", "succeeded") and (body["pause_requested"] or body["state"] == "succeeded")
    finally:
        thread.join(timeout=120)
    run.refresh_from_db()
    assert run.state == TrainingState.PAUSED, (run.state, run.last_error)
    assert 3 <= run.step < 30 and run.step % 3 == 0 and run.checkpoint_step == run.step
    assert checkpoint(run_id)["step"] == run.step and not run.pause_requested
    assert ModelVersion.objects.filter(training_run=run).count() == 0
    assert artist_client.post(f"{URL}/{run_id}/pause").status_code == 409

    paused_at = run.step
    assert artist_client.post(f"{URL}/{run_id}/resume").status_code == 200
    run_queued_tasks()
    run.refresh_from_db()
    assert run.state == JobState.SUCCEEDED, run.last_error
    assert run.step == 30 and run.start_steps == [0, paused_at] and run.attempts == 2
    assert_same_training(run_id, reference)
    assert (
        ModelVersion.objects.get(training_run=run).onnx_sha256
        == ModelVersion.objects.get(training_run__public_id=reference).onnx_sha256
    )


@pytest.mark.django_db
def test_pause_and_resume_in_the_wrong_state_are_409_and_change_nothing(artist_client, dataset_id, tiny_config):
    run_id = start(artist_client, dataset_id, tiny_config)
    resume = artist_client.post(f"{URL}/{run_id}/resume")  # queued: nothing to resume
    assert resume.status_code == 409 and resume.json()["state"] == "queued"
    TrainingRun.objects.update(state=JobState.RUNNING, attempts=1)
    assert artist_client.post(f"{URL}/{run_id}/resume").status_code == 409  # running, no pause asked
    asked = artist_client.post(f"{URL}/{run_id}/pause")
    assert asked.status_code == 200 and asked.json()["pause_requested"] is True
    withdrawn = artist_client.post(f"{URL}/{run_id}/resume")  # before the boundary: withdraws the pause
    assert withdrawn.status_code == 200 and withdrawn.json()["pause_requested"] is False
    assert withdrawn.json()["state"] == "running"
    for state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED):
        TrainingRun.objects.update(state=state)
        for action in ("pause", "resume"):
            response = artist_client.post(f"{URL}/{run_id}/{action}")
            assert response.status_code == 409, (state, action)
            assert response.json()["code"] == "invalid_transition"
        assert TrainingRun.objects.get().state == state and not TrainingRun.objects.get().pause_requested
    TrainingRun.objects.update(state=JobState.RUNNING, cancel_requested=True)
    assert artist_client.post(f"{URL}/{run_id}/pause").status_code == 409  # being cancelled


@pytest.mark.django_db
def test_a_stranger_cannot_pause_or_resume_a_run(artist_client, client_for, make_user, dataset_id, tiny_config):
    run_id = start(artist_client, dataset_id, tiny_config)
    other = client_for(make_user(role="artist"))
    assert other.post(f"{URL}/{run_id}/pause").status_code == 404
    assert TrainingRun.objects.get().state == JobState.QUEUED
    artist_client.post(f"{URL}/{run_id}/pause")
    assert other.post(f"{URL}/{run_id}/resume").status_code == 404
    assert TrainingRun.objects.get().state == TrainingState.PAUSED


@pytest.mark.django_db
def test_pause_refuses_a_body(artist_client, dataset_id, tiny_config):
    run_id = start(artist_client, dataset_id, tiny_config)
    response = artist_client.post(f"{URL}/{run_id}/pause", {"now": True}, format="json")
    assert response.status_code == 400
    assert TrainingRun.objects.get().state == JobState.QUEUED


@pytest.mark.django_db
def test_cancelling_a_paused_run_cancels_and_refunds_it(artist_client, dataset_id, tiny_config, meter):
    run_id = start(artist_client, dataset_id, tiny_config)
    artist_client.post(f"{URL}/{run_id}/pause")
    response = artist_client.post(f"{URL}/{run_id}/cancel")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert meter.total("refund", "training", f"training_run:{run_id}") == 1
    assert artist_client.post(f"{URL}/{run_id}/resume").status_code == 409


@pytest.mark.django_db
def test_drain_asks_running_runs_to_yield_pauses_queued_ones_and_resume_undoes_only_its_own(
    artist_client, dataset_id, tiny_config, capsys
):
    running, queued, owners = (start(artist_client, dataset_id, tiny_config) for _ in range(3))
    TrainingRun.objects.filter(public_id=running).update(state=JobState.RUNNING, attempts=1)
    artist_client.post(f"{URL}/{owners}/pause")  # the owner's own pause: a drain's resume leaves it
    call_command("training_drain", "--queued")
    assert "asked 1 running run(s) to pause; paused 1 queued run(s)" in capsys.readouterr().out
    rows = {str(run.public_id): run for run in TrainingRun.objects.all()}
    assert rows[running].pause_requested and rows[running].pause_reason == "drain"
    assert rows[queued].state == TrainingState.PAUSED and rows[queued].pause_reason == "drain"
    with pytest.raises(CommandError, match="1 run"):
        call_command("training_drain", "--wait", "0.5")  # the running row never reaches a boundary here
    call_command("training_drain", "--resume")
    assert "resumed 1 run(s)" in capsys.readouterr().out
    rows = {str(run.public_id): run for run in TrainingRun.objects.all()}
    assert rows[queued].state == JobState.QUEUED and not rows[running].pause_requested
    assert rows[owners].state == TrainingState.PAUSED


@pytest.mark.django_db
def test_admin_pause_and_resume_actions(client, make_user, artist_client, dataset_id, tiny_config):
    run_id = start(artist_client, dataset_id, tiny_config)
    client.force_login(make_user(role="staff"))
    run = TrainingRun.objects.get()
    changelist = "/admin/generation/trainingrun/"
    client.post(changelist, {"action": "pause", "_selected_action": [run.pk]})
    run.refresh_from_db()
    assert run.state == TrainingState.PAUSED and run.pause_reason == "staff"
    response = client.post(changelist, {"action": "pause", "_selected_action": [run.pk]}, follow=True)
    assert "Cannot pause a training run that is paused" in response.content.decode()
    client.post(changelist, {"action": "resume", "_selected_action": [run.pk]})
    assert TrainingRun.objects.get(public_id=run_id).state == JobState.QUEUED


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_pool_trains_a_run_over_two_processes_like_one(artist_client, dataset_id, tiny_config, settings):
    config = {**tiny_config, "steps": 6, "checkpoint_every": 3}
    reference = start(artist_client, dataset_id, config)
    run_queued_tasks()
    settings.GENERATION_TRAIN_PROCS = 2
    run_id = start(artist_client, dataset_id, config)
    run_queued_tasks()
    run = TrainingRun.objects.get(public_id=run_id)
    assert run.state == JobState.SUCCEEDED, run.last_error
    assert run.step == 6 and run.checkpoint_step == 6 and run.losses
    assert ModelVersion.objects.filter(training_run=run, parity_passed=True).count() == 1
    got, expected = checkpoint(run_id), checkpoint(reference)
    for name, values in expected["history"].items():  # tolerance: see tests/generation/gan/test_distributed.py
        torch.testing.assert_close(got["history"][name], values, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_two_process_run_pauses_at_a_boundary_and_resumes_bit_for_bit(
    artist_client, dataset_id, tiny_config, settings
):
    settings.GENERATION_TRAIN_PROCS = 2
    config = {**tiny_config, "steps": 24, "checkpoint_every": 3, "sample_every": 1000}
    reference = start(artist_client, dataset_id, config)
    run_queued_tasks()
    assert TrainingRun.objects.get(public_id=reference).state == JobState.SUCCEEDED

    run_id = start(artist_client, dataset_id, config)
    run = TrainingRun.objects.get(public_id=run_id)

    def worker():
        try:
            run_queued_tasks()
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while TrainingRun.objects.get(pk=run.pk).state != JobState.RUNNING and time.monotonic() < deadline:
            time.sleep(0.05)
        assert artist_client.post(f"{URL}/{run_id}/pause").status_code == 200
    finally:
        thread.join(timeout=300)
    run.refresh_from_db()
    assert run.state == TrainingState.PAUSED, (run.state, run.last_error)
    assert 3 <= run.step < 24 and run.step % 3 == 0 and checkpoint(run_id)["step"] == run.step
    assert artist_client.post(f"{URL}/{run_id}/resume").status_code == 200
    run_queued_tasks()
    run.refresh_from_db()
    assert run.state == JobState.SUCCEEDED, run.last_error
    assert_same_training(run_id, reference)  # both two-process runs: the same reduction order, bit for bit
