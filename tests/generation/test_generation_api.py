import hashlib
import threading
import time

import pytest
from django.db import connection

from core.jobs import JobState
from core.models import DomainEvent
from generation import runtime, selectors, services
from generation.gan.noise import MAX_SEED, latents_for_seeds
from generation.gan.onnx_runner import make_session, run_generator
from generation.models import GeneratedImage, GenerationJob
from tests.helpers import run_queued_tasks

URL = "/api/v1/generation-jobs"


def create(client, model, **fields):
    return client.post(URL, {"model": str(model.public_id), **fields}, format="json")


def image_shas(job: GenerationJob) -> list[str]:
    return list(job.images.order_by("index").values_list("sha256", flat=True))


def expected_pngs(onnx_path, seeds, truncation=1.0) -> list[str]:
    """What the engine alone draws for these seeds, one session, encoded as the app encodes."""
    session = make_session(onnx_path)
    pixels = run_generator(session, latents_for_seeds(seeds, 16, truncation))
    return [hashlib.sha256(services.encode_png(image)).hexdigest() for image in pixels]


@pytest.mark.django_db
def test_a_job_consumes_its_units_and_draws_one_image_per_seed(
    artist_client, artist, model_for, meter, run_tasks, exported_onnx
):
    model = model_for(artist)
    response = create(artist_client, model, seeds=[5, 6, 7, 8], truncation=0.5)
    assert response.status_code == 202, response.json()
    job_id = response.json()["id"]
    assert response.json()["count"] == 4 and response.json()["state"] == "queued"
    assert meter.calls == [("consume", "generation", 4, f"generation_job:{job_id}")]
    run_tasks()
    job = GenerationJob.objects.get()
    assert job.state == JobState.SUCCEEDED and job.produced == 4 and job.provider == "CPUExecutionProvider"
    assert image_shas(job) == expected_pngs(exported_onnx, [5, 6, 7, 8], truncation=0.5)
    assert list(job.images.values_list("provider", flat=True)) == ["CPUExecutionProvider"] * 4
    assert DomainEvent.objects.filter(user=artist, type="generation.succeeded").count() == 1


@pytest.mark.django_db
def test_without_seeds_the_server_picks_and_records_them(artist_client, artist, model_for, run_tasks):
    model = model_for(artist)
    body = create(artist_client, model, count=3).json()
    assert len(body["seeds"]) == 3 and all(0 <= seed < 2**32 for seed in body["seeds"])
    run_tasks()
    job = GenerationJob.objects.get()
    assert list(job.images.values_list("seed", flat=True)) == body["seeds"]


@pytest.mark.django_db
def test_regenerating_any_image_from_its_record_gives_identical_bytes(artist_client, artist, model_for, run_tasks):
    model = model_for(artist, conditional=True)
    create(artist_client, model, seeds=[1, 2, 3, 4, 5], truncation=0.7)
    create(artist_client, model, interpolation={"seed_a": 3, "seed_b": 9, "steps": 5}, class_label=1)
    run_tasks()
    images = list(GeneratedImage.objects.all())
    assert len(images) == 10
    runtime.clear_caches()  # a fresh session, as another worker would have
    for image in images:
        regenerated = services.regenerate_image_bytes(image=image)
        assert hashlib.sha256(regenerated).hexdigest() == image.sha256
        assert regenerated == selectors.generated_image_read(image=image)


@pytest.mark.django_db
def test_an_interpolation_starts_and_ends_on_its_seeds_images(artist_client, artist, model_for, run_tasks):
    model = model_for(artist)
    create(artist_client, model, seeds=[3, 9], truncation=0.9)
    create(artist_client, model, interpolation={"seed_a": 3, "seed_b": 9, "steps": 4}, truncation=0.9)
    run_tasks()
    seeds_job, walk = GenerationJob.objects.order_by("pk")
    walk_shas = image_shas(walk)
    assert len(walk_shas) == 4 and len(set(walk_shas)) == 4
    assert [walk_shas[0], walk_shas[-1]] == image_shas(seeds_job)
    assert walk.images.get(index=2).interpolation == {"seed_a": 3, "seed_b": 9, "steps": 4, "step": 2}


@pytest.mark.django_db
def test_conditional_models_draw_the_requested_class_or_seed_mod_classes(artist_client, artist, model_for, run_tasks):
    model = model_for(artist, conditional=True)
    create(artist_client, model, seeds=[4, 5])
    create(artist_client, model, seeds=[4, 5], class_label=1)
    run_tasks()
    default, chosen = GenerationJob.objects.order_by("pk")
    assert list(default.images.values_list("class_label", flat=True)) == [0, 1]
    assert list(chosen.images.values_list("class_label", flat=True)) == [1, 1]
    assert image_shas(default)[1] == image_shas(chosen)[1] and image_shas(default)[0] != image_shas(chosen)[0]


@pytest.mark.django_db
def test_queued_small_jobs_of_one_model_share_one_batch_and_each_gets_its_own_images(
    artist_client, artist, model_for, run_tasks, monkeypatch, exported_onnx
):
    from django_tasks_db.models import DBTaskResult

    model = model_for(artist)
    batches: list[int] = []
    real_generate = runtime.LoadedModel.generate

    def counting_generate(self, z, labels=None):
        batches.append(len(z))
        return real_generate(self, z, labels)

    monkeypatch.setattr(runtime.LoadedModel, "generate", counting_generate)
    first = create(artist_client, model, seeds=[1, 2]).json()["id"]
    second = create(artist_client, model, seeds=[30, 31, 32], truncation=0.6).json()["id"]
    run_tasks()
    assert batches == [5]  # one onnxruntime call served both jobs
    jobs = {str(job.public_id): job for job in GenerationJob.objects.all()}
    assert {job.state for job in jobs.values()} == {JobState.SUCCEEDED}
    assert jobs[first].batch_id == jobs[second].batch_id and jobs[first].batch_jobs == 2
    assert image_shas(jobs[first]) == expected_pngs(exported_onnx, [1, 2])
    assert image_shas(jobs[second]) == expected_pngs(exported_onnx, [30, 31, 32], truncation=0.6)
    outcomes = sorted(DBTaskResult.objects.values_list("return_value", flat=True))
    assert outcomes == ["skipped", "succeeded"]  # the second job's own task found it served


@pytest.mark.django_db
def test_jobs_too_big_to_share_run_on_their_own(artist_client, artist, model_for, run_tasks, settings):
    settings.GENERATION_MICROBATCH_MAX_IMAGES = 4
    settings.GENERATION_BATCH_SIZE = 2
    model = model_for(artist)
    create(artist_client, model, seeds=[1, 2, 3])
    create(artist_client, model, seeds=[4, 5])
    run_tasks()
    first, second = GenerationJob.objects.order_by("pk")
    assert first.batch_id != second.batch_id and first.batch_jobs == second.batch_jobs == 1
    assert [first.produced, second.produced] == [3, 2]


@pytest.mark.django_db
def test_jobs_of_another_model_are_not_taken_along(artist_client, artist, model_for, run_tasks):
    one, other = model_for(artist), model_for(artist)
    create(artist_client, one, seeds=[1])
    create(artist_client, other, seeds=[1])
    run_tasks()
    first, second = GenerationJob.objects.order_by("pk")
    assert first.batch_id != second.batch_id
    assert image_shas(first) == image_shas(second)  # the same file, the same seed: the same image


@pytest.mark.django_db
def test_the_same_idempotency_key_creates_one_job_and_consumes_once(artist_client, artist, model_for, meter):
    model = model_for(artist)
    payload = {"model": str(model.public_id), "seeds": [1, 2]}
    first = artist_client.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="gen-1")
    second = artist_client.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="gen-1")
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"] and second["Idempotent-Replayed"] == "true"
    assert GenerationJob.objects.count() == 1 and meter.total("consume", "generation") == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields,field",
    [
        ({"count": 0}, "count"),
        ({"count": 501}, "count"),
        ({"seeds": [-1]}, "seeds.0"),
        ({"seeds": [1, 2], "count": 3}, "count"),
        ({"truncation": 1.5}, "truncation"),
        ({"class_label": 0}, "class_label"),
        ({"interpolation": {"seed_a": 1, "seed_b": 2, "steps": 1}}, "interpolation.steps"),
        ({"interpolation": {"seed_a": 1, "seed_b": 2, "steps": 3}, "seeds": [1]}, "seeds"),
        ({"interpolation": {"seed_a": 1, "seed_b": 2, "steps": 3, "psi": 1}}, "interpolation.psi"),
        ({"owner": 1}, "owner"),
    ],
)
def test_bad_requests_are_400_naming_the_field_and_consume_nothing(
    artist_client, artist, model_for, meter, fields, field
):
    model = model_for(artist)
    response = create(artist_client, model, **fields)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert GenerationJob.objects.count() == 0 and meter.calls == []


@pytest.mark.django_db
def test_a_seed_above_the_one_seed_bound_is_400(artist_client, artist, model_for, meter):
    model = model_for(artist)
    assert create(artist_client, model, seeds=[MAX_SEED]).status_code == 202
    response = create(artist_client, model, seeds=[MAX_SEED + 1])
    assert response.status_code == 400 and any(key.startswith("seeds") for key in response.json()["errors"])
    response = create(artist_client, model, interpolation={"seed_a": 0, "seed_b": MAX_SEED + 1, "steps": 3})
    assert response.status_code == 400, response.json()


@pytest.mark.django_db
def test_a_class_label_outside_the_models_classes_is_400(artist_client, artist, model_for):
    model = model_for(artist, conditional=True)
    response = create(artist_client, model, class_label=2)
    assert response.status_code == 400 and "class_label" in response.json()["errors"]


@pytest.mark.django_db
def test_another_users_model_job_and_images_are_404(artist_client, artist, client_for, make_user, model_for, run_tasks):
    other_user = make_user(role="artist")
    other = client_for(other_user)
    model = model_for(artist)
    assert create(other, model, count=1).status_code == 404
    assert other.get(f"/api/v1/models/{model.public_id}").status_code == 404
    assert other.get(f"/api/v1/models/{model.public_id}/onnx").status_code == 404
    job_id = create(artist_client, model, count=1).json()["id"]
    run_tasks()
    image = GeneratedImage.objects.get()
    assert other.get(f"{URL}/{job_id}").status_code == 404
    assert other.post(f"{URL}/{job_id}/cancel").status_code == 404
    for suffix in ("", "/original", "/preview"):
        assert other.get(f"/api/v1/generated-images/{image.public_id}{suffix}").status_code == 404
        assert artist_client.get(f"/api/v1/generated-images/{image.public_id}{suffix}").status_code == 200
    assert other.get(URL).json()["results"] == [] and other.get("/api/v1/models").json()["results"] == []


@pytest.mark.django_db
def test_unauthenticated_is_401(api, artist, model_for):
    model = model_for(artist)
    assert create(api, model, count=1).status_code == 401
    assert api.get(f"/api/v1/models/{model.public_id}/onnx").status_code == 401


@pytest.mark.django_db
def test_cancelling_a_queued_job_refunds_every_unit(artist_client, artist, model_for, meter, run_tasks):
    model = model_for(artist)
    job_id = create(artist_client, model, count=3).json()["id"]
    body = artist_client.post(f"{URL}/{job_id}/cancel").json()
    assert body["state"] == "cancelled" and body["units_refunded"] == 3
    assert meter.total("refund", "generation", f"generation_job:{job_id}") == 3
    run_tasks()
    assert GeneratedImage.objects.count() == 0 and GenerationJob.objects.get().state == JobState.CANCELLED
    assert artist_client.post(f"{URL}/{job_id}/cancel").status_code == 409
    assert DomainEvent.objects.filter(user=artist, type="generation.cancelled").count() == 1


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_running_job_keeps_what_it_made_and_refunds_the_rest(
    artist_client, artist, model_for, meter, settings
):
    settings.GENERATION_BATCH_SIZE = 1
    model = model_for(artist)
    job_id = create(artist_client, model, count=400).json()["id"]

    def worker():
        try:
            run_queued_tasks()
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while GenerationJob.objects.get().produced < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert artist_client.post(f"{URL}/{job_id}/cancel").json()["cancel_requested"] is True
    finally:
        thread.join(timeout=120)
    job = GenerationJob.objects.get()
    assert job.state == JobState.CANCELLED
    assert 2 <= job.produced < 400 and job.images.count() == job.produced
    assert job.units_refunded == 400 - job.produced
    assert meter.total("refund", "generation", f"generation_job:{job_id}") == 400 - job.produced


@pytest.mark.django_db
def test_with_a_gpu_required_and_none_working_the_job_fails_for_good_and_refunds(
    artist_client, artist, model_for, meter, run_tasks, settings
):
    if runtime.probe().gpu:
        pytest.skip("this host has a working GPU provider")
    settings.GENERATION_REQUIRE_GPU = True
    settings.GENERATION_PROVIDERS = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    model = model_for(artist)
    job_id = create(artist_client, model, count=2).json()["id"]
    run_tasks()
    body = artist_client.get(f"{URL}/{job_id}").json()
    assert body["state"] == "failed" and body["attempts"] == 1
    assert "GENERATION_REQUIRE_GPU" in body["error"] and "CPUExecutionProvider" in body["error"]
    assert body["units_refunded"] == 2 and meter.total("refund", "generation") == 2
    assert GeneratedImage.objects.count() == 0


@pytest.mark.django_db
def test_selectors_give_the_marketplace_an_image_with_its_lineage(artist_client, artist, model_for, run_tasks):
    model = model_for(artist)
    job = services.generation_job_create(user=artist, model_version=model, seeds=[42], truncation=0.75)
    run_tasks()
    image = selectors.generated_image_get(user=artist, public_id=job.images.get().public_id)
    lineage = selectors.generated_image_lineage(image=image)
    assert lineage["seed"] == 42 and lineage["truncation"] == 0.75
    assert lineage["model_version"] == str(model.public_id) and lineage["dataset_hash"] == model.dataset_hash
    data = selectors.generated_image_read(image=image)
    assert hashlib.sha256(data).hexdigest() == image.sha256 == lineage["sha256"]
    preview = selectors.generated_image_read(image=image, variant="preview")
    assert preview[:4] == b"RIFF" and preview[8:12] == b"WEBP"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_workers_serve_every_queued_job_exactly_once(artist, model_for, settings):
    settings.GENERATION_MICROBATCH_MAX_IMAGES = 6
    model = model_for(artist)
    jobs = [
        services.generation_job_create(user=artist, model_version=model, seeds=[index, index + 100])
        for index in range(8)
    ]
    errors: list[BaseException] = []

    def worker():
        try:
            run_queued_tasks()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    for job in jobs:
        job.refresh_from_db()
        assert job.state == JobState.SUCCEEDED and job.attempts == 1
        assert list(job.images.values_list("seed", flat=True)) == job.seeds
    assert GeneratedImage.objects.count() == 16
    assert max(GenerationJob.objects.values_list("batch_jobs", flat=True)) <= 3
