"""A worker SIGKILLed mid-training: the sweeper requeues the run and the next worker resumes it from the last
checkpoint (not from step 0), and it completes exactly once."""

import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from core.jobs import JobState, sweep_stale_jobs
from generation.models import ModelVersion, TrainingRun
from tests.generation.factories import TINY_CONFIG, labelled_zip, upload
from tests.helpers import start_db_worker, wait_for


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_run_resumes_from_its_last_checkpoint_and_completes_once(
    artist_client, subprocess_env, generation_dirs
):
    env = {**subprocess_env, "MEDIA_ROOT": str(generation_dirs["media"]), "OMP_NUM_THREADS": "1"}
    dataset = upload(artist_client, {"shapes.zip": labelled_zip(per_class=4)}).json()["id"]
    config = {**TINY_CONFIG, "steps": 100_000, "checkpoint_every": 10, "sample_every": 100_000}
    run_id = artist_client.post("/api/v1/training-runs", {"dataset": dataset, "config": config}, format="json").json()[
        "id"
    ]
    run = TrainingRun.objects.get(public_id=run_id)

    first = start_db_worker(env, queues="training")
    try:
        wait_for(lambda: (TrainingRun.objects.get(pk=run.pk).checkpoint_step or 0) >= 20, 120, "a checkpoint")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    run.refresh_from_db()
    assert run.state == JobState.RUNNING and run.start_steps == [0]  # left running by the kill
    checkpointed = run.checkpoint_step

    # Finish soon after the checkpoint (the schedule may change on resume), and let the heartbeat go stale.
    TrainingRun.objects.filter(pk=run.pk).update(
        config={**run.config, "steps": run.step + 15},
        total_steps=run.step + 15,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    assert sweep_stale_jobs() == {"requeued": 1, "failed": 0}

    second = start_db_worker(env, queues="training")
    try:
        wait_for(
            lambda: TrainingRun.objects.get(pk=run.pk).state in (JobState.SUCCEEDED, JobState.FAILED),
            180,
            "the resumed run to finish",
        )
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=60)
    run.refresh_from_db()
    assert run.state == JobState.SUCCEEDED, run.last_error
    first_step, resumed_step = run.start_steps
    assert first_step == 0
    assert resumed_step >= checkpointed > 0 and resumed_step % 10 == 0  # the checkpoint's step, not 0
    assert run.attempts == 2 and run.step == run.total_steps
    assert ModelVersion.objects.filter(training_run=run).count() == 1
    assert ModelVersion.objects.get().step == run.total_steps
