"""Budgets, not steps, through the API: presets and minutes are planned for the worker's device, the estimate
comes before anything is spent, the schema documents every config field, and ADA's p shows in progress."""

import pytest

from generation.gan.config import field_specs
from generation.models import Dataset, ModelVersion, TrainingRun
from tests.generation.factories import TINY_CONFIG, labelled_zip, stripes_image, upload, zip_bytes
from tests.helpers import run_queued_tasks

URL = "/api/v1/training-runs"
ESTIMATE = "/api/v1/training-runs/estimate"


@pytest.fixture
def dataset_id(artist_client) -> str:
    return upload(artist_client, {"shapes.zip": labelled_zip(per_class=4)}).json()["id"]


@pytest.mark.django_db
def test_the_estimate_names_the_device_speed_and_steps_and_writes_nothing(artist_client, dataset_id, meter):
    response = artist_client.post(
        ESTIMATE, {"dataset": dataset_id, "preset": "quick", "budget_minutes": 10}, format="json"
    )
    body = response.json()
    assert response.status_code == 200, body
    plan = body["plan"]
    assert plan["device"] == "cpu" and plan["mode"] == "budget" and plan["preset"] == "quick"
    assert plan["images_per_second"] > 0 and plan["steps"] >= 200 and plan["minutes"] == 10
    assert f"about {plan['steps']:,} steps in 10 minutes" in plan["summary"] and "images/s here" in plan["summary"]
    # the steps are what the speed buys in the budget
    config = body["config"]
    assert config["steps"] == plan["steps"] and config["budget_minutes"] == 10
    assert abs(plan["estimated_minutes"] - 10) < 0.5
    assert plan["work"] == config["steps"] * config["batch_size"] * config["resolution"] ** 2 * max(
        config["g_channels"], config["d_channels"]
    )
    assert body["time_limit_seconds"] == pytest.approx(600 + 60)  # budget + 10 % margin
    assert TrainingRun.objects.count() == 0 and meter.calls == []


@pytest.mark.django_db
def test_a_patterned_dataset_is_planned_with_periodic_maps_measured_once(artist_client, dataset_id):
    stripes = upload(artist_client, {"s.zip": zip_bytes({f"s/{i}.png": stripes_image(i) for i in range(10)})})
    assert stripes.status_code == 200 and stripes.json()["state"] == "ready"

    def estimate(dataset, **config):
        body = {"dataset": dataset, "preset": "quick", "config": config}
        return artist_client.post(ESTIMATE, body, format="json").json()

    patterned, shapes = estimate(stripes.json()["id"]), estimate(dataset_id)
    assert patterned["config"]["periodic_channels"] > 0 and patterned["plan"]["periodic_maps"] > 0
    assert "periodic maps for a patterned set" in patterned["plan"]["summary"]
    assert shapes["config"]["periodic_channels"] == 0 and shapes["plan"]["periodic_maps"] == 0
    stored = Dataset.objects.get(public_id=stripes.json()["id"])
    assert stored.periodicity >= 1.0 and Dataset.objects.get(public_id=dataset_id).periodicity < 1.0
    # measured once: the stored score decides later plans, and the user's own value still wins
    Dataset.objects.filter(pk=stored.pk).update(periodicity=0.0)
    assert estimate(stripes.json()["id"])["config"]["periodic_channels"] == 0
    assert estimate(dataset_id, periodic_channels=4)["config"]["periodic_channels"] == 4


@pytest.mark.django_db
def test_a_dataset_whose_images_cannot_be_read_is_planned_without_periodic_maps(artist_client, caplog):
    stripes = upload(artist_client, {"s.zip": zip_bytes({f"s/{i}.png": stripes_image(i) for i in range(6)})})
    stored = Dataset.objects.get(public_id=stripes.json()["id"])
    for image in stored.images.all():
        image.file.storage.delete(image.file.name)  # the media is gone (or its store is down) at plan time
    body = {"dataset": str(stored.public_id), "preset": "quick"}
    response = artist_client.post(ESTIMATE, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["config"]["periodic_channels"] == 0 and "not measured" in caplog.text
    assert Dataset.objects.get(pk=stored.pk).periodicity is None  # measured again next time, not kept as 0


@pytest.mark.django_db
def test_more_minutes_buy_more_steps_and_presets_differ(artist_client, dataset_id):
    def plan(**body):
        return artist_client.post(ESTIMATE, {"dataset": dataset_id, **body}, format="json").json()

    short, long = plan(preset="quick", budget_minutes=3), plan(preset="quick", budget_minutes=12)
    assert long["plan"]["steps"] == pytest.approx(4 * short["plan"]["steps"], rel=0.01)
    assert plan(preset="best")["config"]["resolution"] > plan(preset="quick")["config"]["resolution"]
    assert plan()["plan"]["preset"] == "standard"  # nothing given: the standard plan, not the old 10,000 steps


@pytest.mark.django_db
def test_a_created_run_stores_and_shows_its_plan(artist_client, dataset_id, meter):
    response = artist_client.post(
        URL, {"dataset": dataset_id, "preset": "quick", "budget_minutes": 2, "config": {"seed": 7}}, format="json"
    )
    body = response.json()
    assert response.status_code == 202, body
    run = TrainingRun.objects.get(public_id=body["id"])
    assert run.plan["summary"] == body["plan"]["summary"] and "2 minutes" in run.plan["summary"]
    assert run.config["seed"] == 7 and run.config["budget_minutes"] == 2
    assert run.total_steps == run.plan["steps"] == body["progress"]["total_steps"]
    assert run.time_limit_seconds == pytest.approx(120 + 30)  # the margin is at least 30 s
    assert body["stop_reason"] == "" and body["progress"]["augment_p"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body,field",
    [
        ({"preset": "huge"}, "preset"),
        ({"budget_minutes": 0}, "budget_minutes"),
        ({"budget_minutes": 0.02}, "budget_minutes"),  # too few steps fit, even at the smallest shape
        ({"budget_minutes": 1, "config": {"resolution": 512}}, "config.resolution"),
        ({"budget_minutes": 1, "config": {"steps": 900_000}}, "config.steps"),
        ({"preset": "quick", "config": {"lr_g": 9.0}}, "config.lr_g"),
        ({"preset": "quick", "config": {"no_such_setting": 1}}, "config.no_such_setting"),
        ({"config": {"budget_minutes": "soon"}}, "config.budget_minutes"),
        ({"config": {"budget_minutes": [1]}}, "config.budget_minutes"),
    ],
)
def test_a_plan_that_cannot_fit_is_400_naming_the_field_and_writes_nothing(
    artist_client, dataset_id, meter, body, field
):
    for url in (ESTIMATE, URL):
        response = artist_client.post(url, {"dataset": dataset_id, **body}, format="json")
        problem = response.json()
        assert response.status_code == 400, problem
        assert field in problem["errors"], problem
    assert TrainingRun.objects.count() == 0 and meter.calls == []


@pytest.mark.django_db
def test_an_explicit_config_is_estimated_for_the_device_too(artist_client, dataset_id):
    body = artist_client.post(ESTIMATE, {"dataset": dataset_id, "config": TINY_CONFIG}, format="json").json()
    assert body["plan"]["mode"] == "explicit" and body["config"]["steps"] == TINY_CONFIG["steps"]
    assert body["plan"]["images_per_second"] > 0 and body["time_limit_seconds"] is None


@pytest.mark.django_db
def test_the_schema_documents_every_config_field_with_default_bounds_and_meaning(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    properties = components["GANConfig"]["properties"]
    specs = field_specs()
    assert set(properties) == set(specs)
    for name, spec in specs.items():
        documented = properties[name]
        assert documented["default"] == spec["default"], name
        assert spec["doc"][1:] in documented["description"], name
        if "minimum" in spec:
            assert documented["minimum"] == spec["minimum"] and documented["maximum"] == spec["maximum"], name
        if "choices" in spec:  # an enum component, referenced
            enum = components[documented["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
            assert enum == spec["choices"], name
    create = components["TrainingRunCreateRequest"]["properties"]
    preset = components[create["preset"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert preset["enum"] == ["quick", "standard", "best"] and "budget_minutes" in create
    assert "/api/v1/training-runs/estimate" in schema["paths"]
    progress = components["TrainingProgress"]["properties"]
    assert "augment_p" in progress and "ada_signal" in progress


@pytest.mark.django_db
def test_progress_shows_adas_probability_with_the_losses(artist_client, dataset_id):
    config = {**TINY_CONFIG, "ada": True, "ada_interval": 1, "ada_speed_images": 100}
    run_id = artist_client.post(URL, {"dataset": dataset_id, "config": config}, format="json").json()["id"]
    run_queued_tasks(queues="training,generation")
    body = artist_client.get(f"{URL}/{run_id}").json()
    assert body["state"] == "succeeded", body["error"]
    progress = body["progress"]
    assert set(progress["losses"]) >= {"d_loss", "g_loss"}
    assert progress["augment_p"] is not None and 0.0 <= progress["augment_p"] <= 1.0
    assert progress["ada_signal"] is not None and -1.0 <= progress["ada_signal"] <= 1.0
    assert body["stop_reason"] == "completed"


@pytest.mark.django_db
def test_a_budgeted_run_stops_at_its_budget_and_is_exported(artist_client, dataset_id):
    """Planned steps come from a table; on a slower machine the trainer's budget ends the run, which is then
    exported like a finished one (here the steps are raised past what any CPU trains in the budget)."""
    run_id = artist_client.post(URL, {"dataset": dataset_id, "config": TINY_CONFIG}, format="json").json()["id"]
    run = TrainingRun.objects.get(public_id=run_id)
    TrainingRun.objects.filter(pk=run.pk).update(
        config={
            **run.config,
            "steps": 1_000_000,
            "budget_minutes": 0.03,
            "checkpoint_every": 1_000_000,
            "sample_every": 1_000_000,
            "log_every": 50,
        },
        total_steps=1_000_000,
    )
    run_queued_tasks(queues="training,generation")
    run.refresh_from_db()
    assert run.state == "succeeded", run.last_error
    assert run.stop_reason == "budget" and 0 < run.step < 1_000_000
    assert ModelVersion.objects.get(training_run=run).step == run.step
