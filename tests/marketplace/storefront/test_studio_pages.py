"""The artist studio as pages, through Django's test client: who may enter, datasets with per-file reasons,
training with live progress partials, generating, publishing and listing — each form refusing bad input with
field errors that keep what was typed, through the same services as the API."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.jobs import JobState
from generation.models import Dataset, GeneratedImage, GenerationJob, TrainingRun
from marketplace.gallery.models import Artwork, Listing
from tests.generation.factories import TINY_CONFIG, labelled_zip, shape_image
from tests.helpers import run_queued_tasks
from tests.marketplace.commissions.helpers import SVG
from tests.marketplace.storefront import studio_helpers
from tests.marketplace.storefront.studio_helpers import (
    UUID_RE,
    field_errors,
    form_errors,
    html_of,
    input_value,
    page_client,
)

studio_media, tiny_onnx, tiny_model = studio_helpers.studio_media, studio_helpers.tiny_onnx, studio_helpers.tiny_model
tiny_conditional_onnx = studio_helpers.tiny_conditional_onnx


@pytest.fixture
def as_artist(artist, studio_media):
    return page_client(artist)


def upload_dataset(client, files: dict[str, bytes], name: str = "Shapes", *, process: bool = True):
    """POST the upload form; when it was accepted (302), run the dataset's processing job as a worker would."""
    payload = {"name": name, "files": [SimpleUploadedFile(filename, data) for filename, data in files.items()]}
    response = client.post("/studio/datasets/", payload)
    if process and response.status_code == 302:
        run_queued_tasks(queues="default")
    return response


def tiny_config_json(**changes) -> str:
    return json.dumps(
        {
            key: value
            for key, value in {**TINY_CONFIG, **changes}.items()
            if key not in ("resolution", "steps", "batch_size")
        }
    )


# --- who may enter -------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/studio/",
        "/studio/datasets/",
        "/studio/training/new",
        "/studio/models/",
        "/studio/generations/",
        "/studio/artworks/",
    ],
)
def test_the_studio_sends_a_visitor_to_sign_in_and_refuses_a_buyer(client, make_user, path):
    response = client.get(path)
    assert response.status_code == 302 and "login" in response["Location"] and "next=" in response["Location"]
    assert page_client(make_user(role="buyer")).get(path).status_code == 403


@pytest.mark.django_db
def test_a_polled_partial_whose_session_ended_sends_the_whole_page_to_sign_in(client):
    partial = "/studio/training/00000000-0000-4000-8000-000000000000/progress"
    response = client.get(
        partial, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="/studio/training/00000000-0000-4000-8000-000000000000/"
    )
    assert response.status_code == 204 and "login" in response["HX-Redirect"]
    assert "next=/studio/training/00000000-0000-4000-8000-000000000000/" in response["HX-Redirect"].replace("%2F", "/")


@pytest.mark.django_db
def test_a_buyer_cannot_upload_a_dataset_through_the_page(make_user, studio_media):
    buyer = page_client(make_user(role="buyer"))
    assert upload_dataset(buyer, {"a.png": shape_image(1)}).status_code == 403
    assert not Dataset.objects.exists()


@pytest.mark.django_db
def test_studio_forms_need_the_csrf_token(artist, studio_media):
    strict = page_client(artist, csrf=True)
    assert upload_dataset(strict, {"a.png": shape_image(1)}).status_code == 403
    assert not Dataset.objects.exists()


# --- datasets ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_upload_keeps_the_good_images_and_shows_why_each_other_file_was_not_used(as_artist, artist):
    files = {
        "good1.png": shape_image(1),
        "good2.png": shape_image(2),
        "again.png": shape_image(1),
        "evil.svg": SVG,
        "notes.txt": b"hello",
    }
    response = upload_dataset(as_artist, files)
    assert response.status_code == 302
    dataset = Dataset.objects.get(owner=artist)
    assert response["Location"] == f"/studio/datasets/{dataset.public_id}/?uploaded=1"
    assert dataset.image_count == 2
    html = html_of(as_artist.get(response["Location"]))
    report = re.search(r'<table id="upload-report">(.*?)</table>', html, re.S).group(1)
    for name in ("evil.svg", "notes.txt", "again.png"):
        assert name in report
    assert "a duplicate of good1.png" in report
    assert dataset.upload_report["rejected"][0]["reason"] in html  # the service's own words
    assert "3 not used" in html


@pytest.mark.django_db
def test_a_processing_dataset_says_so_and_refreshes_until_it_is_ready(as_artist, artist):
    response = upload_dataset(as_artist, {"shapes.zip": labelled_zip(per_class=2)}, process=False)
    assert response.status_code == 302
    html = html_of(as_artist.get(response["Location"]))
    assert "Processing: the uploaded files are being checked and decoded" in html
    assert '<meta http-equiv="refresh" content="3">' in html  # no script needed to see it finish
    assert "Train a model on this dataset" not in html
    assert "Processing" in html_of(as_artist.get("/studio/datasets/"))
    run_queued_tasks(queues="default")
    html = html_of(as_artist.get(response["Location"]))
    assert 'http-equiv="refresh"' not in html and "Uploaded: 4 images kept" in html
    assert "Train a model on this dataset" in html


@pytest.mark.django_db
def test_an_upload_with_no_usable_image_ends_failed_with_each_reason(as_artist):
    response = upload_dataset(as_artist, {"evil.svg": SVG, "empty.png": b""}, name="My hostile set")
    assert response.status_code == 302
    dataset = Dataset.objects.get()
    assert dataset.state == "failed" and dataset.name == "My hostile set" and not dataset.images.exists()
    html = html_of(as_artist.get(response["Location"]))
    failed = re.search(r'id="dataset-failed">(.*?)</p>', html, re.S).group(1)
    assert "None of the uploaded files is a usable image." in failed
    report = re.search(r'<table id="upload-report">(.*?)</table>', html, re.S).group(1)
    assert "evil.svg" in report and "empty.png" in report
    assert "Train a model on this dataset" not in html and 'http-equiv="refresh"' not in html


@pytest.mark.django_db
def test_a_zip_upload_labels_by_class_folder(as_artist, artist):
    assert upload_dataset(as_artist, {"shapes.zip": labelled_zip(per_class=3)}).status_code == 302
    assert Dataset.objects.get(owner=artist).class_names == ["circles", "squares"]


@pytest.mark.django_db
def test_an_upload_without_a_name_or_files_shows_field_errors(as_artist):
    response = as_artist.post("/studio/datasets/", {"name": ""})
    assert response.status_code == 400
    html = html_of(response)
    assert field_errors(html, "name") and field_errors(html, "files")
    assert not Dataset.objects.exists()


@pytest.mark.django_db
def test_too_many_files_for_django_is_a_413_page_not_a_crash(as_artist, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    response = upload_dataset(as_artist, {f"{i}.png": shape_image(i) for i in range(3)})
    assert response.status_code == 413 and "too large" in html_of(response)
    assert 'href="/"' in html_of(response)  # no referrer: back to the home page, never to another site
    assert not Dataset.objects.exists()


@pytest.mark.django_db
def test_a_dataset_in_use_cannot_be_deleted_and_says_so(as_artist, artist):
    upload_dataset(as_artist, {"shapes.zip": labelled_zip(per_class=3)})
    dataset = Dataset.objects.get()
    as_artist.post(
        "/studio/training/new",
        {"dataset": dataset.public_id, "resolution": 32, "steps": 6, "batch_size": 8, "advanced": tiny_config_json()},
    )
    page = html_of(as_artist.get(f"/studio/datasets/{dataset.public_id}/"))
    assert "Delete this dataset" not in page  # the page offers no delete for a dataset in use
    response = as_artist.post(f"/studio/datasets/{dataset.public_id}/")  # and a forged one is refused
    assert response.status_code == 409 and "used by 1 training run" in html_of(response)
    assert Dataset.objects.filter(pk=dataset.pk).exists()


# --- training ------------------------------------------------------------------------------------------------


@pytest.fixture
def dataset(as_artist, artist):
    assert upload_dataset(as_artist, {"shapes.zip": labelled_zip(per_class=4)}).status_code == 302
    return Dataset.objects.get(owner=artist)


@pytest.mark.django_db
def test_starting_a_run_takes_the_settings_and_the_json_and_the_page_polls_until_it_finishes(
    as_artist, dataset, run_tasks
):
    response = as_artist.post(
        "/studio/training/new",
        {
            "dataset": str(dataset.public_id),
            "resolution": "32",
            "steps": "6",
            "batch_size": "8",
            "advanced": tiny_config_json(),
        },
    )
    assert response.status_code == 302, form_errors(html_of(response))
    run = TrainingRun.objects.get(dataset=dataset)
    assert response["Location"] == f"/studio/training/{run.public_id}/"
    assert run.config["steps"] == 6 and run.config["latent_dim"] == TINY_CONFIG["latent_dim"]
    assert run.config["resolution"] == 32 and run.total_steps == 6

    page = html_of(as_artist.get(response["Location"]))
    progress = f"/studio/training/{run.public_id}/progress"
    assert f'hx-get="{progress}"' in page and 'http-equiv="refresh"' in page
    assert 'data-state="queued"' in page

    run_tasks()
    partial = html_of(as_artist.get(progress))
    run.refresh_from_db()
    assert run.state == JobState.SUCCEEDED, run.last_error
    assert 'data-state="succeeded"' in partial and 'data-step="6"' in partial
    assert "hx-get" not in partial  # finished: it stops polling itself
    assert f"/api/v1/training-runs/{run.public_id}/sample-grid?step=6" in partial
    assert f"/api/v1/training-runs/{run.public_id}/loss-curve?step=6" in partial
    assert f"/studio/models/{run.model_version.public_id}/" in partial
    assert as_artist.get(f"/api/v1/training-runs/{run.public_id}/sample-grid").status_code == 200
    assert "<html" not in partial  # a fragment, not a page


@pytest.mark.django_db
def test_bad_training_settings_are_shown_on_their_fields_and_kept(as_artist, dataset):
    response = as_artist.post(
        "/studio/training/new",
        {
            "dataset": str(dataset.public_id),
            "resolution": "32",
            "steps": "0",
            "batch_size": "8",
            "advanced": '{"latent_dim": 16}',
        },
    )
    assert response.status_code == 400
    html = html_of(response)
    assert any("between 1" in message for message in field_errors(html, "steps"))  # GANConfig's own bounds
    assert input_value(html, "steps") == "0" and input_value(html, "advanced") == '{"latent_dim": 16}'

    unknown = as_artist.post(
        "/studio/training/new",
        {
            "dataset": str(dataset.public_id),
            "resolution": "32",
            "steps": "6",
            "batch_size": "8",
            "advanced": '{"wobble": 3}',
        },
    )
    assert unknown.status_code == 400 and "is not a known setting" in " ".join(
        field_errors(html_of(unknown), "advanced")
    )

    broken = as_artist.post(
        "/studio/training/new",
        {"dataset": str(dataset.public_id), "resolution": "32", "steps": "6", "batch_size": "8", "advanced": "{nope"},
    )
    assert broken.status_code == 400 and field_errors(html_of(broken), "advanced")
    assert not TrainingRun.objects.exists()


@pytest.mark.django_db
def test_a_preset_and_a_budget_plan_the_run_and_the_estimate_is_shown_before_starting(as_artist, dataset):
    form = html_of(as_artist.get("/studio/training/new"))
    assert 'name="preset"' in form and 'name="budget_minutes"' in form
    assert 'hx-post="/studio/training/estimate"' in form

    choice = {"dataset": str(dataset.public_id), "preset": "quick", "budget_minutes": "2"}
    shown = as_artist.post("/studio/training/new", {**choice, "action": "estimate"})  # the no-JS button
    assert shown.status_code == 200
    summary = re.search(r'id="estimate-summary">(.*?)</p>', html_of(shown), re.S).group(1)
    assert re.search(r"about [\d,.]+ images/s here, about [\d,]+ steps in 2 minutes", summary)
    assert "2-minute budget" in summary
    assert not TrainingRun.objects.exists()  # an estimate writes nothing

    partial = as_artist.post("/studio/training/estimate", choice, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in html_of(partial)
    assert re.search(r"steps in 2 minutes", html_of(partial))

    started = as_artist.post("/studio/training/new", choice)
    assert started.status_code == 302, form_errors(html_of(started))
    run = TrainingRun.objects.get()
    assert run.plan["mode"] == "budget" and run.plan["preset"] == "quick"
    assert run.config["budget_minutes"] == 2 and run.plan["summary"].split(" (")[0] in summary


@pytest.mark.django_db
def test_a_run_that_cannot_fit_its_budget_is_refused_on_the_field_to_change(as_artist, dataset):
    choice = {"dataset": str(dataset.public_id), "preset": "quick", "budget_minutes": "0.1", "resolution": "512"}
    response = as_artist.post("/studio/training/new", choice)
    assert response.status_code == 400
    assert any("steps fit" in message for message in field_errors(html_of(response), "resolution"))
    assert input_value(html_of(response), "budget_minutes") == "0.1"
    estimate = as_artist.post("/studio/training/estimate", choice, HTTP_HX_REQUEST="true")
    assert estimate.status_code == 200 and "No estimate until" in html_of(estimate)
    tiny = as_artist.post("/studio/training/new", {**choice, "budget_minutes": "0.01", "resolution": ""})
    assert tiny.status_code == 400 and field_errors(html_of(tiny), "budget_minutes")
    assert not TrainingRun.objects.exists()


@pytest.mark.django_db
def test_another_artists_dataset_cannot_be_chosen(as_artist, artist, make_user, studio_media):
    other = make_user(role="artist")
    upload_dataset(page_client(other), {"shapes.zip": labelled_zip(per_class=3)})
    upload_dataset(as_artist, {"mine.zip": labelled_zip(per_class=4)})
    theirs = Dataset.objects.get(owner=other)
    response = as_artist.post(
        "/studio/training/new", {"dataset": str(theirs.public_id), "resolution": "32", "steps": "6", "batch_size": "8"}
    )
    assert response.status_code == 400 and field_errors(html_of(response), "dataset")
    assert f'value="{theirs.public_id}"' not in html_of(response)  # not offered as a choice
    assert not TrainingRun.objects.exists()


@pytest.mark.django_db
def test_cancelling_a_queued_run_from_its_page(as_artist, dataset):
    as_artist.post(
        "/studio/training/new",
        {
            "dataset": str(dataset.public_id),
            "resolution": "32",
            "steps": "6",
            "batch_size": "8",
            "advanced": tiny_config_json(),
        },
    )
    run = TrainingRun.objects.get()
    assert as_artist.post(f"/studio/training/{run.public_id}/").status_code == 302
    run.refresh_from_db()
    assert run.state == JobState.CANCELLED and run.units_refunded == 1
    again = as_artist.post(f"/studio/training/{run.public_id}/")
    assert again.status_code == 409 and "Cannot cancel a training run that is cancelled." in html_of(again)


# --- generating, publishing, listing -------------------------------------------------------------------------


@pytest.mark.django_db
def test_generate_shows_results_as_they_finish_then_publish_and_list(as_artist, artist, tiny_model, run_tasks):
    model = tiny_model(artist)
    page = html_of(as_artist.get(f"/studio/models/{model.public_id}/"))
    assert 'id="generate-form"' in page and "toy model" in page

    response = as_artist.post(
        f"/studio/models/{model.public_id}/generate", {"mode": "seeds", "seeds": "11, 12, 13", "truncation": "0.8"}
    )
    assert response.status_code == 302
    job = GenerationJob.objects.get()
    assert job.seeds == [11, 12, 13] and job.truncation == 0.8
    partial_url = f"/studio/generations/{job.public_id}/images"
    assert f'hx-get="{partial_url}"' in html_of(as_artist.get(response["Location"]))
    assert "0 of 3 ready" in html_of(as_artist.get(partial_url))

    run_tasks()
    partial = html_of(as_artist.get(partial_url))
    assert "3 of 3 ready" in partial and "hx-get" not in partial
    images = list(GeneratedImage.objects.filter(job=job).order_by("index"))
    for image in images:
        assert f"/api/v1/generated-images/{image.public_id}/preview" in partial
        assert f"/studio/images/{image.public_id}/publish" in partial

    publish = f"/studio/images/{images[0].public_id}/publish"
    assert "seed 11" in html_of(as_artist.get(publish))
    bad = as_artist.post(publish, {"title": "Fox", "tags": "ok, not/allowed!"})
    assert bad.status_code == 400 and field_errors(html_of(bad), "tags")
    assert input_value(html_of(bad), "title") == "Fox"
    created = as_artist.post(publish, {"title": "Fox at dawn", "tags": "fox, dawn", "style": "pixel"})
    assert created.status_code == 302
    artwork = Artwork.objects.get()
    assert created["Location"] == f"/studio/artworks/{artwork.public_id}/"
    assert artwork.tags == ["fox", "dawn"] and artwork.lineage["seed"] == 11 and artwork.state == "draft"

    assert as_artist.post(f"/studio/artworks/{artwork.public_id}/publish").status_code == 302
    artwork.refresh_from_db()
    assert artwork.state == "published" and artwork.provenance_record_id is not None

    listing_url = f"/studio/artworks/{artwork.public_id}/listings"
    wrong = as_artist.post(listing_url, {"licence_type": "personal", "price": "12.505", "currency": "USD"})
    assert wrong.status_code == 400 and field_errors(html_of(wrong), "price")
    assert input_value(html_of(wrong), "price") == "12.505"
    assert (
        as_artist.post(listing_url, {"licence_type": "personal", "price": "12.50", "currency": "USD"}).status_code
        == 302
    )
    listing = Listing.objects.get()
    assert (listing.price, listing.currency, listing.state) == (1250, "USD", "active")
    twice = as_artist.post(listing_url, {"licence_type": "personal", "price": "9", "currency": "USD"})
    assert twice.status_code == 409 and "already has an active personal listing" in html_of(twice)
    commercial = as_artist.post(listing_url, {"licence_type": "commercial", "price": "90", "currency": "USD"})
    assert commercial.status_code == 402 and "does not include commercial licences" in html_of(commercial)

    detail = html_of(as_artist.get(f"/studio/artworks/{artwork.public_id}/"))
    assert "12.50 USD" in detail
    assert as_artist.post(f"/studio/listings/{listing.public_id}/price", {"price": "15"}).status_code == 302
    listing.refresh_from_db()
    assert listing.price == 1500
    assert as_artist.post(f"/studio/listings/{listing.public_id}/close").status_code == 302
    listing.refresh_from_db()
    assert listing.state == "closed"


@pytest.mark.django_db
def test_bad_generation_input_is_shown_on_its_field_and_nothing_is_queued(as_artist, artist, tiny_model):
    model = tiny_model(artist)
    url = f"/studio/models/{model.public_id}/generate"
    too_truncated = as_artist.post(url, {"mode": "count", "count": "2", "truncation": "1.5"})
    assert too_truncated.status_code == 400
    html = html_of(too_truncated)
    assert field_errors(html, "truncation") == ["truncation must be between 0 and 1."]
    assert input_value(html, "truncation") == "1.5" and input_value(html, "count") == "2"
    walk = as_artist.post(url, {"mode": "interpolate", "seed_a": "1", "seed_b": "2", "steps": "1", "truncation": "1"})
    assert walk.status_code == 400 and field_errors(html_of(walk), "steps")
    seeds = as_artist.post(url, {"mode": "seeds", "seeds": "1, two", "truncation": "1"})
    assert seeds.status_code == 400 and field_errors(html_of(seeds), "seeds")
    assert not GenerationJob.objects.exists()


@pytest.mark.django_db
def test_an_interpolation_from_the_page(as_artist, artist, tiny_model):
    model = tiny_model(artist)
    response = as_artist.post(
        f"/studio/models/{model.public_id}/generate",
        {"mode": "interpolate", "seed_a": "3", "seed_b": "9", "steps": "4", "truncation": "1"},
    )
    assert response.status_code == 302
    assert GenerationJob.objects.get().interpolation == {"seed_a": 3, "seed_b": 9, "steps": 4}


@pytest.mark.django_db
def test_the_studio_lists_show_the_artists_own_things_only(as_artist, artist, make_user, tiny_model):
    mine, theirs = tiny_model(artist), tiny_model(make_user(role="artist"))
    html = html_of(as_artist.get("/studio/models/"))
    assert str(mine.public_id) in html and str(theirs.public_id) not in html
    assert as_artist.get(f"/studio/models/{theirs.public_id}/").status_code == 404
    assert re.search(UUID_RE, html)


# --- constant queries ----------------------------------------------------------------------------------------


def _queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_studio_lists_run_a_constant_number_of_queries_as_they_grow(as_artist, artist, tiny_model):
    from bench.synthetic_images import encode_png, synthetic_image
    from generation import services as generation_services
    from marketplace.gallery import services as gallery_services

    model = tiny_model(artist)
    dataset = model.training_run.dataset

    def add(start: int, count: int) -> None:
        for index in range(start, start + count):
            generation_services.generation_job_create(user=artist, model_version=model, seeds=[index])
            TrainingRun.objects.create(owner=artist, dataset=dataset, config=model.config, total_steps=6)
            artwork = gallery_services.artwork_create_from_upload(
                artist=artist,
                raw=encode_png(synthetic_image(index, size=(48, 48))),
                filename=f"{index}.png",
                title=f"Work {index}",
                tags=["a", "b"],
            )
            gallery_services.listing_create(
                artist=artist, artwork=artwork, licence_type="personal", price=100 + index, currency="USD"
            )

    pages = [
        "/studio/",
        "/studio/training/",
        "/studio/generations/",
        "/studio/artworks/",
        "/studio/models/",
        "/studio/datasets/",
    ]
    add(0, 2)
    few = {path: _queries(as_artist, path) for path in pages}
    add(2, 5)
    many = {path: _queries(as_artist, path) for path in pages}
    assert many == few


@pytest.mark.django_db
def test_an_unused_dataset_is_deleted_from_its_page(as_artist, artist):
    upload_dataset(as_artist, {"a.png": shape_image(1)})
    dataset = Dataset.objects.get()
    assert "Delete this dataset" in html_of(as_artist.get(f"/studio/datasets/{dataset.public_id}/"))
    response = as_artist.post(f"/studio/datasets/{dataset.public_id}/")
    assert response.status_code == 302 and response["Location"] == "/studio/datasets/"
    assert not Dataset.objects.exists()
    assert as_artist.get(f"/studio/datasets/{dataset.public_id}/").status_code == 404


@pytest.mark.django_db
def test_the_same_image_twice_is_refused_with_the_services_reason_and_withdrawing_stops_sales(
    as_artist, artist, tiny_model, run_tasks
):
    model = tiny_model(artist)
    as_artist.post(f"/studio/models/{model.public_id}/generate", {"mode": "seeds", "seeds": "5", "truncation": "1"})
    run_tasks()
    image = GeneratedImage.objects.get()
    publish = f"/studio/images/{image.public_id}/publish"
    assert as_artist.post(publish, {"title": "Once"}).status_code == 302
    again = as_artist.post(publish, {"title": "Twice"})
    assert again.status_code == 409 and "You already have an artwork with exactly this image." in html_of(again)
    assert input_value(html_of(again), "title") == "Twice" and Artwork.objects.count() == 1

    artwork = Artwork.objects.get()
    as_artist.post(f"/studio/artworks/{artwork.public_id}/publish")
    as_artist.post(
        f"/studio/artworks/{artwork.public_id}/listings", {"licence_type": "personal", "price": "3", "currency": "USD"}
    )
    assert as_artist.post(f"/studio/artworks/{artwork.public_id}/withdraw").status_code == 302
    artwork.refresh_from_db()
    assert artwork.state == "withdrawn"
    page = html_of(as_artist.get(f"/studio/artworks/{artwork.public_id}/"))
    assert 'id="listing-form"' not in page and 'id="publish-form"' in page
    twice = as_artist.post(f"/studio/artworks/{artwork.public_id}/withdraw")
    assert twice.status_code == 409 and "Cannot withdraw a artwork that is withdrawn." in html_of(twice)


@pytest.mark.django_db
def test_a_conditional_model_offers_its_classes_and_an_unconditional_one_none(as_artist, artist, tiny_model):
    conditional, plain = tiny_model(artist, conditional=True), tiny_model(artist)
    assert 'name="class_label"' not in html_of(as_artist.get(f"/studio/models/{plain.public_id}/"))
    page = html_of(as_artist.get(f"/studio/models/{conditional.public_id}/"))
    for index, name in enumerate(conditional.class_names):
        assert f'<option value="{index}">{name}</option>' in page
    response = as_artist.post(
        f"/studio/models/{conditional.public_id}/generate",
        {"mode": "count", "count": "2", "truncation": "1", "class_label": "1"},
    )
    assert response.status_code == 302
    assert GenerationJob.objects.get().class_label == 1
    forged = as_artist.post(
        f"/studio/models/{plain.public_id}/generate",
        {"mode": "count", "count": "2", "truncation": "1", "class_label": "1"},
    )
    assert forged.status_code == 302 and GenerationJob.objects.latest("id").class_label is None  # no such field


# --- curation and fine-tuning ------------------------------------------------------------------------------


def _generated(as_artist, model, run_tasks, seeds: str = "5, 6, 7") -> list[GeneratedImage]:
    assert (
        as_artist.post(
            f"/studio/models/{model.public_id}/generate", {"mode": "seeds", "seeds": seeds, "truncation": "1"}
        ).status_code
        == 302
    )
    run_tasks(queues="generation")
    return list(GeneratedImage.objects.filter(model_version=model).order_by("index"))


@pytest.mark.django_db
def test_keep_and_reject_from_the_results_with_and_without_javascript(
    as_artist, artist, make_user, tiny_model, run_tasks
):
    model = tiny_model(artist)
    first, second, third = _generated(as_artist, model, run_tasks)
    partial = html_of(as_artist.get(f"/studio/generations/{first.job.public_id}/images"))
    assert partial.count('data-curation="none"') == 3
    assert f'hx-post="/studio/images/{first.public_id}/curation"' in partial

    kept = as_artist.post(f"/studio/images/{first.public_id}/curation", {"verdict": "keep"}, HTTP_HX_REQUEST="true")
    assert kept.status_code == 200 and 'data-curation="keep"' in html_of(kept) and "<html" not in html_of(kept)
    plain = as_artist.post(f"/studio/images/{second.public_id}/curation", {"verdict": "reject"})
    assert plain.status_code == 302
    assert plain["Location"] == f"/studio/generations/{second.job.public_id}/#image-{second.public_id}"
    bad = as_artist.post(f"/studio/images/{third.public_id}/curation", {"verdict": "maybe"})
    assert bad.status_code == 400 and "Choose one of" in html_of(bad)
    stranger = page_client(make_user(role="artist"))
    assert stranger.post(f"/studio/images/{third.public_id}/curation", {"verdict": "keep"}).status_code == 404
    assert [image.curation for image in GeneratedImage.objects.order_by("index")] == ["keep", "reject", ""]

    undo = as_artist.post(f"/studio/images/{first.public_id}/curation", {"verdict": "none"}, HTTP_HX_REQUEST="true")
    assert 'data-curation="none"' in html_of(undo)
    assert GeneratedImage.objects.get(pk=first.pk).curation == ""
    assert 'id="kept-count">0<' in html_of(as_artist.get(f"/studio/models/{model.public_id}/"))


@pytest.mark.django_db
def test_a_model_without_a_checkpoint_says_why_it_cannot_be_fine_tuned(as_artist, artist, tiny_model):
    model = tiny_model(artist)
    response = as_artist.post(f"/studio/models/{model.public_id}/fine-tune", {"freeze_d_blocks": "0"})
    assert response.status_code == 400 and "no training checkpoint" in html_of(response)
    assert TrainingRun.objects.filter(init_from=model).count() == 0


@pytest.mark.django_db
def test_fine_tune_from_the_model_page_on_the_kept_images_and_compare_with_the_parent(
    as_artist, artist, dataset, run_tasks
):
    from marketplace.subscriptions import services as subscriptions

    subscriptions.subscription_change_plan(user=artist, plan="studio", payment_method="tok_visa")  # 2 runs
    as_artist.post(
        "/studio/training/new",
        {
            "dataset": str(dataset.public_id),
            "resolution": "32",
            "steps": "6",
            "batch_size": "8",
            "advanced": tiny_config_json(),
        },
    )
    run_tasks(queues="training")
    parent = TrainingRun.objects.get().model_version
    kept, rejected = _generated(as_artist, parent, run_tasks, seeds="1, 2")
    as_artist.post(f"/studio/images/{kept.public_id}/curation", {"verdict": "keep"})
    as_artist.post(f"/studio/images/{rejected.public_id}/curation", {"verdict": "reject"})

    page = html_of(as_artist.get(f"/studio/models/{parent.public_id}/"))
    assert 'id="kept-count">1<' in page and 'id="fine-tune-form"' in page and 'id="model-performance"' in page
    wrong = as_artist.post(f"/studio/models/{parent.public_id}/fine-tune", {"freeze_d_blocks": "99"})
    assert wrong.status_code == 400 and field_errors(html_of(wrong), "freeze_d_blocks")
    assert input_value(html_of(wrong), "freeze_d_blocks") == "99"

    started = as_artist.post(
        f"/studio/models/{parent.public_id}/fine-tune", {"fresh_discriminator": "on", "freeze_d_blocks": "1"}
    )
    assert started.status_code == 302, form_errors(html_of(started))
    child_run = TrainingRun.objects.get(init_from=parent)
    assert started["Location"] == f"/studio/training/{child_run.public_id}/"
    assert child_run.fine_tune == {"fresh_discriminator": True, "freeze_d_blocks": 1}
    assert child_run.dataset.image_count == dataset.image_count + 1  # the kept image joined; the rejected did not

    run_tasks(queues="training")
    child = TrainingRun.objects.get(pk=child_run.pk).model_version
    compared = html_of(as_artist.get(f"/studio/models/{child.public_id}/"))
    assert "beside the model it was fine-tuned from" in compared
    assert f'href="/studio/models/{parent.public_id}/"' in compared
