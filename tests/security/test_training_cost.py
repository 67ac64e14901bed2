"""Issue 12, finding 5: training has a cost ceiling per plan, shown in the API's error, and the worker stops a
run at its time limit. Real plans (the seeded free plan) behind the real metering hook."""

import time

import pytest

from generation.models import ModelVersion, TrainingRun
from marketplace.subscriptions.models import FREE_PLAN_CODE, Plan, UsageEntry
from tests.generation.factories import TINY_CONFIG, labelled_zip, upload
from tests.helpers import run_queued_tasks

URL = "/api/v1/training-runs"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.GENERATION_RUNS_ROOT = str(tmp_path / "runs")
    settings.GENERATION_METER = "marketplace.subscriptions.metering.SubscriptionMeter"


@pytest.fixture
def dataset_id(artist_client) -> str:
    return upload(artist_client, {"shapes.zip": labelled_zip(per_class=4)}).json()["id"]


@pytest.mark.django_db
def test_a_free_artist_asking_for_a_million_steps_at_128px_and_512_channels_gets_400_with_the_limit(
    artist_client, dataset_id
):
    free = Plan.objects.get(code=FREE_PLAN_CODE)
    assert free.max_training_work and free.max_training_minutes
    config = {"steps": 1_000_000, "resolution": 128, "g_channels": 512, "d_channels": 512}
    response = artist_client.post(URL, {"dataset": dataset_id, "config": config}, format="json")
    body = response.json()
    assert response.status_code == 400, body
    assert body["code"] == "training_limit_exceeded" and body["limit_name"] == "max_training_work"
    assert body["limit"] == free.max_training_work
    assert body["requested"] == 1_000_000 * 64 * 128**2 * 512  # default batch 64
    assert f"{free.max_training_work:,}" in body["detail"] and "config.steps" in body["errors"]
    assert TrainingRun.objects.count() == 0 and UsageEntry.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"budget_minutes": 600},
        {"preset": "best", "budget_minutes": 31},
    ],
)
def test_a_budget_over_the_plans_minutes_is_400_with_the_limit(artist_client, dataset_id, body):
    free = Plan.objects.get(code=FREE_PLAN_CODE)
    response = artist_client.post(URL, {"dataset": dataset_id, **body}, format="json")
    problem = response.json()
    assert response.status_code == 400, problem
    assert problem["limit_name"] == "max_training_minutes" and problem["limit"] == free.max_training_minutes
    assert problem["requested"] == body["budget_minutes"] and "budget_minutes" in problem["errors"]
    assert TrainingRun.objects.count() == 0


@pytest.mark.django_db
def test_a_capped_plan_always_gets_a_budget_and_a_hard_time_limit(artist_client, dataset_id):
    free = Plan.objects.get(code=FREE_PLAN_CODE)
    body = artist_client.post(URL, {"dataset": dataset_id, "config": TINY_CONFIG}, format="json").json()
    run = TrainingRun.objects.get(public_id=body["id"])
    assert run.config["budget_minutes"] == free.max_training_minutes
    assert run.time_limit_seconds == pytest.approx(free.max_training_minutes * 60 * 1.1)
    # an uncapped plan leaves an explicit config alone
    Plan.objects.filter(code=FREE_PLAN_CODE).update(max_training_minutes=None, max_training_work=None)
    Plan.objects.filter(code=FREE_PLAN_CODE).update(training_runs_per_period=None)
    body = artist_client.post(URL, {"dataset": dataset_id, "config": TINY_CONFIG}, format="json").json()
    assert body["config"]["budget_minutes"] == 0 and body["time_limit_seconds"] is None


@pytest.mark.django_db
def test_the_worker_stops_a_run_at_its_time_limit_and_exports_it(artist_client, dataset_id):
    """Estimates can be wrong (a slower worker, a config edited by staff): the worker's own clock is the
    ceiling. Here the run asks for a million steps with no budget and a 1.5-second hard limit."""
    body = artist_client.post(URL, {"dataset": dataset_id, "config": TINY_CONFIG}, format="json").json()
    run = TrainingRun.objects.get(public_id=body["id"])
    TrainingRun.objects.filter(pk=run.pk).update(
        config={
            **run.config,
            "steps": 1_000_000,
            "budget_minutes": 0.0,
            "checkpoint_every": 1_000_000,
            "sample_every": 1_000_000,
            "log_every": 50,
        },
        total_steps=1_000_000,
        time_limit_seconds=1.5,
    )
    started = time.monotonic()
    run_queued_tasks(queues="training,generation")
    took = time.monotonic() - started
    run.refresh_from_db()
    assert run.state == "succeeded", run.last_error
    assert run.stop_reason == "time_limit" and 0 < run.step < 1_000_000
    assert ModelVersion.objects.get(training_run=run).step == run.step  # exported at the step it stopped
    assert took < 60  # data preparation, export with its parity check and metrics included
    response = artist_client.get(f"{URL}/{run.public_id}").json()
    assert response["stop_reason"] == "time_limit"
