"""Delivering with one of the artist's own models: the delivery waits for the generation job and attaches its
images."""

import hashlib

import pytest

from generation.models import GeneratedImage, GenerationJob
from generation.services import generation_job_cancel
from marketplace.commissions.models import Commission, Delivery
from marketplace.commissions.services import commissions_sweep
from provenance.credentials.c2pa_manifests import SOURCE_GENERATED, strip_manifest
from provenance.credentials.c2pa_manifests import read as read_manifest
from provenance.services.credentials import trust_anchors_pem


def generate(client, commission_id, model, **fields):
    return client.post(
        f"/api/v1/commissions/{commission_id}/deliveries",
        {"model": str(model.public_id), "count": 3, "seed": 40} | fields,
        format="json",
    )


@pytest.mark.django_db
def test_a_delivery_generated_with_the_artists_own_model_attaches_the_jobs_images(
    client_api, artist, artist_client, awarded, model_of, run_tasks, django_capture_on_commit_callbacks
):
    model = model_of(artist)
    response = generate(artist_client, awarded["id"], model)
    assert response.status_code == 202, response.json()
    assert response.json()["state"] == "generating" and response.json()["images"] == []
    assert Commission.objects.get().state == "awarded"
    with django_capture_on_commit_callbacks(execute=True):  # the job's event reaches the delivery after commit
        run_tasks()
    delivery = client_api.get(f"/api/v1/commission-deliveries/{response.json()['id']}").json()
    assert delivery["state"] == "delivered"
    generated = GeneratedImage.objects.filter(job=GenerationJob.objects.get()).order_by("index")
    assert [image["seed"] for image in delivery["images"]] == [40, 41, 42]
    assert [image["sha256"] for image in delivery["images"]] == [image.sha256 for image in generated]
    data = b"".join(client_api.get(delivery["images"][1]["url"]).streaming_content)
    assert hashlib.sha256(strip_manifest(data)).hexdigest() == generated[1].sha256
    reading = read_manifest(data=data, trust_anchors_pem=trust_anchors_pem())
    version = generated[1].model_version
    assert reading.status == "trusted"
    assert reading.assertions["c2pa.actions.v2"]["actions"][0]["digitalSourceType"] == SOURCE_GENERATED
    assert f"atelier:model_version:{version.public_id}:sha256:{version.onnx_sha256}" in {
        ingredient["instance_id"] for ingredient in reading.ingredients
    }
    assert Commission.objects.get().state == "delivered"


@pytest.mark.django_db
def test_the_sweep_attaches_the_images_when_the_event_was_missed(artist, artist_client, awarded, model_of, run_tasks):
    generate(artist_client, awarded["id"], model_of(artist), count=2)
    run_tasks()  # no commit callbacks inside the test transaction: as if the process died after the job
    assert Delivery.objects.get().state == "generating"
    assert commissions_sweep()["deliveries_settled"] == 1
    assert Delivery.objects.get().state == "delivered" and Delivery.objects.get().images.count() == 2
    assert Commission.objects.get().state == "delivered"


@pytest.mark.django_db
def test_another_artists_model_is_404_and_starts_nothing(artist_client, other_artist, awarded, model_of):
    response = generate(artist_client, awarded["id"], model_of(other_artist))
    assert response.status_code == 404
    assert not Delivery.objects.exists() and not GenerationJob.objects.exists()


@pytest.mark.django_db
def test_a_second_delivery_waits_while_one_is_generating(artist, artist_client, awarded, model_of):
    model = model_of(artist)
    assert generate(artist_client, awarded["id"], model).status_code == 202
    response = generate(artist_client, awarded["id"], model)
    assert response.status_code == 409 and response.json()["code"] == "delivery_in_progress"
    assert GenerationJob.objects.count() == 1


@pytest.mark.django_db
def test_a_cancelled_job_fails_the_delivery_and_the_artist_may_deliver_again(artist, artist_client, awarded, model_of):
    generate(artist_client, awarded["id"], model_of(artist))
    generation_job_cancel(job=GenerationJob.objects.get())
    commissions_sweep()
    delivery = Delivery.objects.get()
    assert delivery.state == "failed" and "cancelled" in delivery.failure_reason
    assert Commission.objects.get().state == "awarded"
    assert generate(artist_client, awarded["id"], model_of(artist)).status_code == 202


@pytest.mark.django_db
def test_a_brief_naming_a_model_must_be_delivered_with_it(client_api, artist, artist_client, model_of):
    from tests.marketplace.commissions.helpers import accept, offer, post_brief

    named, other = model_of(artist), model_of(artist)
    brief = post_brief(client_api, target_model=str(named.public_id)).json()
    accept(client_api, offer(artist_client, brief["id"]).json()["id"])
    wrong = generate(artist_client, brief["id"], other)
    assert wrong.status_code == 400 and "model" in wrong.json()["errors"]
    assert generate(artist_client, brief["id"], named).status_code == 202


@pytest.mark.django_db
def test_a_client_cannot_generate_a_delivery(client_api, client_user, awarded, model_of):
    response = generate(client_api, awarded["id"], model_of(client_user))
    assert response.status_code == 403
    assert not GenerationJob.objects.exists()
