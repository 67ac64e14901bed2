import pytest

from core.jobs import JobState
from generation.conf import run_directory
from generation.models import GenerationJob, TrainingRun
from tests.generation.factories import TINY_CONFIG, image_bytes, labelled_zip, upload


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user(role="staff"))
    return client


@pytest.fixture
def queued_run(artist_client) -> TrainingRun:
    dataset = upload(artist_client, {"shapes.zip": labelled_zip(per_class=2)}).json()["id"]
    artist_client.post("/api/v1/training-runs", {"dataset": dataset, "config": TINY_CONFIG}, format="json")
    return TrainingRun.objects.get()


@pytest.mark.django_db
def test_admin_lists_every_generation_model(staff_client, queued_run):
    for name in ("dataset", "trainingrun", "modelversion", "generationjob", "generatedimage"):
        assert staff_client.get(f"/admin/generation/{name}/").status_code == 200


@pytest.mark.django_db
def test_run_change_page_shows_the_sample_grid_and_loss_curve(staff_client, queued_run):
    folder = run_directory(queued_run.public_id)
    (folder / "samples").mkdir(parents=True)
    (folder / "samples" / "step_0000003.png").write_bytes(image_bytes())
    (folder / "loss_curve.png").write_bytes(image_bytes((1, 2, 3)))
    TrainingRun.objects.update(sample_grid="samples/step_0000003.png", loss_curve="loss_curve.png")
    page = staff_client.get(f"/admin/generation/trainingrun/{queued_run.pk}/change/").content.decode()
    for kind, data in (("sample_grid", image_bytes()), ("loss_curve", image_bytes((1, 2, 3)))):
        url = f"/admin/generation/trainingrun/{queued_run.pk}/image/{kind}/"
        assert f'<img src="{url}"' in page
        response = staff_client.get(url)
        assert response["Content-Type"] == "image/png" and b"".join(response.streaming_content) == data


@pytest.mark.django_db
def test_run_images_in_the_admin_are_staff_only(client, artist, queued_run):
    client.force_login(artist)
    response = client.get(f"/admin/generation/trainingrun/{queued_run.pk}/image/sample_grid/")
    assert response.status_code == 302  # to the admin login


@pytest.mark.django_db
def test_admin_cancel_and_retry_actions(staff_client, queued_run, meter):
    changelist = "/admin/generation/trainingrun/"
    staff_client.post(changelist, {"action": "cancel", "_selected_action": [queued_run.pk]})
    queued_run.refresh_from_db()
    assert queued_run.state == JobState.CANCELLED and queued_run.units_refunded == 1
    staff_client.post(changelist, {"action": "retry", "_selected_action": [queued_run.pk]})
    queued_run.refresh_from_db()
    assert queued_run.state == JobState.QUEUED and queued_run.settled_at is None


@pytest.mark.django_db
def test_admin_cancels_generation_jobs(staff_client, artist, model_for):
    from generation import services

    job = services.generation_job_create(user=artist, model_version=model_for(artist), count=2)
    staff_client.post("/admin/generation/generationjob/", {"action": "cancel", "_selected_action": [job.pk]})
    assert GenerationJob.objects.get().state == JobState.CANCELLED
