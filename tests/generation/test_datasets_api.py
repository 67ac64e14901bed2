import hashlib

import pytest
from django.core.files.storage import default_storage

from generation.gan.data import dataset_hash
from generation.metering import Limits
from generation.models import Dataset, DatasetImage
from tests.generation.factories import (
    image_bytes,
    labelled_zip,
    noise_image,
    png_bomb,
    shape_image,
    stored_files,
    upload,
    zip_bytes,
)
from tests.helpers import run_queued_tasks

URL = "/api/v1/datasets"


def nothing_stored(dirs) -> bool:
    return Dataset.objects.count() == 0 and DatasetImage.objects.count() == 0 and stored_files(dirs["media"]) == []


def failed_without_images(body, dirs, *, code: str) -> bool:
    """The job's verdict on an upload it could not use: failed with the code, no image rows or files kept
    (the raw upload deleted too)."""
    return (
        body["state"] == "failed"
        and body["failure_code"] == code
        and body["image_count"] == 0
        and DatasetImage.objects.count() == 0
        and stored_files(dirs["media"]) == []
    )


@pytest.mark.django_db
def test_zip_with_class_folders_becomes_a_labelled_dataset(artist_client, generation_dirs):
    response = upload(artist_client, {"shapes.zip": labelled_zip(per_class=3)})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "ready" and body["failure_code"] == ""
    assert body["image_count"] == 6 and body["class_names"] == ["circles", "squares"]
    assert body["upload_report"] == {"rejected": [], "duplicates": []}
    dataset = Dataset.objects.get(public_id=body["id"])
    labels = sorted(dataset.images.values_list("label", flat=True))
    assert labels == ["circles"] * 3 + ["squares"] * 3
    stored = [default_storage.open(image.file.name).read() for image in dataset.images.all()]
    assert body["dataset_hash"] == dataset_hash(hashlib.sha256(data).hexdigest() for data in stored)
    assert len(stored_files(generation_dirs["media"])) == 6


@pytest.mark.django_db
def test_several_images_make_an_unlabelled_dataset(artist_client):
    response = upload(
        artist_client,
        [(f"{i}.png", shape_image(i)) for i in range(4)]
        + [("photo.jpg", image_bytes(fmt="JPEG")), ("art.webp", image_bytes((1, 2, 3), fmt="WEBP"))],
    )
    assert response.status_code == 200, response.json()
    assert response.json()["image_count"] == 6
    assert response.json()["class_names"] == []


@pytest.mark.django_db
def test_duplicates_are_dropped_and_reported(artist_client):
    same_pixels_other_bytes = image_bytes((9, 9, 9), compress_level=1)
    response = upload(
        artist_client,
        [
            ("a.png", shape_image(1)),
            ("b.png", shape_image(2)),
            ("a-again.png", shape_image(1)),
            ("grey.png", image_bytes((9, 9, 9))),
            ("grey-fast.png", same_pixels_other_bytes),
        ],
    )
    body = response.json()
    assert response.status_code == 200, body
    assert body["image_count"] == 3
    assert body["upload_report"]["duplicates"] == [
        {"name": "a-again.png", "duplicate_of": "a.png"},
        {"name": "grey-fast.png", "duplicate_of": "grey.png"},
    ]


@pytest.mark.django_db
def test_bad_files_are_reported_per_file_next_to_the_good_ones(artist_client):
    response = upload(
        artist_client,
        [("good.png", shape_image(1)), ("notes.txt", b"just text"), ("empty.png", b""), ("bomb.png", png_bomb())],
    )
    body = response.json()
    assert response.status_code == 200, body
    assert body["image_count"] == 1 and body["state"] == "ready"
    reasons = {item["name"]: item["reason"] for item in body["upload_report"]["rejected"]}
    assert set(reasons) == {"notes.txt", "empty.png", "bomb.png"}
    assert "only PNG, JPEG and WEBP" in reasons["notes.txt"]
    assert "empty" in reasons["empty.png"] and "decompression bomb" in reasons["bomb.png"]
    assert Dataset.objects.get(public_id=body["id"]).upload_report["rejected"] == body["upload_report"]["rejected"]


@pytest.mark.django_db
def test_images_outside_the_class_folders_of_a_labelled_zip_are_rejected(artist_client):
    raw = zip_bytes({"cats/1.png": shape_image(1), "dogs/2.png": shape_image(2), "loose.png": shape_image(3)})
    body = upload(artist_client, {"set.zip": raw}).json()
    assert body["image_count"] == 2
    assert [item["name"] for item in body["upload_report"]["rejected"]] == ["loose.png"]


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
BAD_IMAGES = {  # found by decoding: the job's to judge
    "non-image": ({"notes.png": b"hello, I am text"}, "only PNG, JPEG and WEBP"),
    "truncated": ({"cut.png": shape_image(1)[:60]}, "truncated"),
    "png bomb": ({"bomb.png": png_bomb()}, "decompression bomb"),
    "svg": ({"logo.svg": SVG}, "SVG"),
    "polyglot": ({"poly.png": shape_image(1) + zip_bytes({"evil.html": b"<b>hi</b>"})}, "polyglot"),
    "zero bytes": ({"zero.png": b""}, "empty"),
}
BAD_ZIPS = {  # found from the zip directory: refused in the request
    "empty zip": ({"empty.zip": zip_bytes({})}, "zip archive is empty"),
    "traversal zip": ({"evil.zip": zip_bytes({"../../etc/evil.png": shape_image(1)})}, "escapes"),
    "absolute zip": ({"evil.zip": zip_bytes({"/etc/evil.png": shape_image(1)})}, "unsafe path"),
    "not a zip": ({"set.zip": b"PK\x03\x04garbage"}, "not a valid zip"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("files,reason", BAD_IMAGES.values(), ids=BAD_IMAGES.keys())
def test_an_upload_without_a_usable_image_fails_with_the_reason_and_keeps_no_file(
    artist_client, generation_dirs, files, reason
):
    response = upload(artist_client, files)
    body = response.json()
    assert response.status_code == 200, body
    assert failed_without_images(body, generation_dirs, code="no_usable_images")
    assert body["failure_reason"] == "None of the uploaded files is a usable image."
    assert reason in " ".join(item["reason"] for item in body["upload_report"]["rejected"])


@pytest.mark.django_db
@pytest.mark.parametrize("files,reason", BAD_ZIPS.values(), ids=BAD_ZIPS.keys())
def test_an_unsafe_or_broken_zip_is_400_in_the_request_and_stores_nothing(
    artist_client, generation_dirs, files, reason
):
    response = upload(artist_client, files)
    body = response.json()
    assert response.status_code == 400, body
    assert response["Content-Type"].startswith("application/problem+json")
    assert reason in body["detail"]
    assert nothing_stored(generation_dirs)


@pytest.mark.django_db
def test_no_usable_image_lists_every_files_reason(artist_client, generation_dirs):
    response = upload(artist_client, [("a.txt", b"text"), ("b.svg", SVG), ("c.png", b"")])
    body = response.json()
    assert failed_without_images(body, generation_dirs, code="no_usable_images")
    assert [item["name"] for item in body["upload_report"]["rejected"]] == ["a.txt", "b.svg", "c.png"]
    assert Dataset.objects.get().processing.uploads == []


@pytest.mark.django_db
def test_plan_image_cap_fails_the_dataset_and_keeps_no_file(artist_client, meter, generation_dirs):
    meter.reset(plan=Limits(max_dataset_images=2))
    response = upload(artist_client, [(f"{i}.png", shape_image(i)) for i in range(3)])
    body = response.json()
    assert failed_without_images(body, generation_dirs, code="plan_limit_exceeded")
    assert body["failure_reason"] == "The dataset has 3 images; your plan allows 2."


@pytest.mark.django_db
def test_plan_byte_cap_fails_the_dataset(artist_client, meter, generation_dirs):
    meter.reset(plan=Limits(max_dataset_bytes=100))
    response = upload(artist_client, [("a.png", shape_image(1))])
    body = response.json()
    assert failed_without_images(body, generation_dirs, code="plan_limit_exceeded")
    assert "your plan allows 100" in body["failure_reason"]


@pytest.mark.django_db
def test_site_image_cap_is_400_with_the_limit(artist_client, settings, generation_dirs):
    settings.GENERATION_DATASET_MAX_IMAGES = 2
    response = upload(artist_client, [(f"{i}.png", shape_image(i)) for i in range(3)])
    assert response.status_code == 400 and response.json()["limit"] == 2
    assert nothing_stored(generation_dirs)


@pytest.mark.django_db
def test_upload_over_the_total_size_is_413(artist_client, settings, generation_dirs):
    settings.GENERATION_DATASET_MAX_BYTES = 1000
    files = [(f"{i}.png", noise_image(seed=i)) for i in range(3)]
    assert all(len(data) > 400 for _, data in files)
    response = upload(artist_client, files)
    assert response.status_code == 413 and response.json()["limit"] == 1000
    assert nothing_stored(generation_dirs)


@pytest.mark.django_db
def test_more_files_than_a_request_may_carry_is_413(artist_client, settings, generation_dirs):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    files = [(f"{i}.png", shape_image(i)) for i in range(4)]
    assert upload(artist_client, files).status_code == 413
    assert upload(artist_client, files, HTTP_IDEMPOTENCY_KEY="k1").status_code == 413
    assert nothing_stored(generation_dirs)


@pytest.mark.django_db
def test_missing_files_or_name_is_400(artist_client):
    assert artist_client.post(URL, {"name": "x"}, format="multipart").status_code == 400
    assert upload(artist_client, {"a.png": shape_image(1)}, name="").status_code == 400


@pytest.mark.django_db
def test_unknown_fields_are_400(artist_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = artist_client.post(
        URL, {"name": "x", "owner": "me", "files": [SimpleUploadedFile("a.png", shape_image(1))]}, format="multipart"
    )
    assert response.status_code == 400 and "owner" in response.json()["errors"]


@pytest.mark.django_db
def test_buyers_cannot_upload_datasets(user_client, generation_dirs):
    assert upload(user_client, {"a.png": shape_image(1)}).status_code == 403
    assert nothing_stored(generation_dirs)


@pytest.mark.django_db
def test_unauthenticated_requests_are_401(api):
    assert api.get(URL).status_code == 401
    assert upload(api, {"a.png": shape_image(1)}).status_code == 401


@pytest.mark.django_db
def test_list_and_detail_show_only_the_owners_datasets(artist_client, client_for, make_user):
    mine = upload(artist_client, {"a.png": shape_image(1)}).json()["id"]
    other = client_for(make_user(role="artist"))
    theirs = upload(other, {"b.png": shape_image(2)}).json()["id"]
    assert [row["id"] for row in artist_client.get(URL).json()["results"]] == [mine]
    assert artist_client.get(f"{URL}/{mine}").status_code == 200
    assert artist_client.get(f"{URL}/{theirs}").status_code == 404
    assert artist_client.delete(f"{URL}/{theirs}").status_code == 404
    assert Dataset.objects.filter(public_id=theirs).exists()


@pytest.mark.django_db(transaction=True)
def test_deleting_an_unused_dataset_removes_its_rows_and_files(artist_client, generation_dirs):
    dataset = upload(artist_client, {"shapes.zip": labelled_zip(per_class=2)}).json()["id"]
    response = artist_client.delete(f"{URL}/{dataset}")
    assert response.status_code == 204
    assert nothing_stored(generation_dirs)


@pytest.mark.django_db
def test_deleting_a_dataset_used_by_a_training_run_is_409(artist_client, tiny_config, generation_dirs):
    dataset = upload(artist_client, {"shapes.zip": labelled_zip(per_class=2)}).json()["id"]
    assert (
        artist_client.post(
            "/api/v1/training-runs", {"dataset": dataset, "config": tiny_config}, format="json"
        ).status_code
        == 202
    )
    response = artist_client.delete(f"{URL}/{dataset}")
    assert response.status_code == 409 and response.json()["code"] == "dataset_in_use"
    assert DatasetImage.objects.count() == 4 and len(stored_files(generation_dirs["media"])) == 4


@pytest.mark.django_db
def test_a_dataset_gets_a_provenance_record_showing_its_images_only_when_the_artist_opts_in(artist_client):
    from provenance.models import ProvenanceRecord

    private = upload(artist_client, [(f"{i}.png", shape_image(i)) for i in range(3)], name="mine")
    from django.core.files.uploadedfile import SimpleUploadedFile

    accepted = artist_client.post(
        URL,
        {
            "name": "shared",
            "contents_public": "true",
            "files": [SimpleUploadedFile(f"{i}.png", shape_image(i + 10)) for i in range(3)],
        },
        format="multipart",
    )
    assert accepted.status_code == 202 and accepted.json()["contents_public"] is True, accepted.json()
    assert not ProvenanceRecord.objects.filter(subject=f"generation.dataset:{accepted.json()['id']}").exists()
    run_queued_tasks(queues="default")  # the record comes once the job has made the dataset ready
    public = artist_client.get(accepted["Location"])
    assert (private.status_code, public.status_code) == (200, 200), (private.json(), public.json())
    assert (private.json()["contents_public"], public.json()["contents_public"]) == (False, True)
    hidden = ProvenanceRecord.objects.get(subject=f"generation.dataset:{private.json()['id']}")
    shown = ProvenanceRecord.objects.get(subject=f"generation.dataset:{public.json()['id']}")
    assert hidden.disclosure == {} and hidden.manifest["dataset_hash"] == private.json()["dataset_hash"]
    assert sorted(shown.disclosure["image_sha256s"]) == sorted(
        Dataset.objects.get(public_id=public.json()["id"]).images.values_list("sha256", flat=True)
    )
    assert hidden.state == shown.state == "pending" and hidden.pdq_quality == 0  # never a near-duplicate match
