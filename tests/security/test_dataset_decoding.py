"""Finding 11: the web request decodes no dataset image (a job does), and what one upload may make that job
decode is capped in total. A zip of many small files that each pass the per-image pixel cap is refused (413) in
the request from the image headers alone; an upload within the cap is accepted (202) and decoded by the job."""

import io
from pathlib import Path
from unittest import mock

import pytest
from PIL import Image

from core import uploads
from generation.models import Dataset, DatasetImage
from tests.generation.factories import shape_image, stored_files, upload, zip_bytes
from tests.helpers import run_queued_tasks

pytestmark = pytest.mark.django_db


def _pixels(png: bytes) -> int:
    with Image.open(io.BytesIO(png)) as image:
        return image.width * image.height


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_an_upload_that_decodes_to_too_many_pixels_is_413_before_decoding(artist_client, settings):
    files = {f"shapes/{i}.png": shape_image(i) for i in range(6)}
    each = _pixels(files["shapes/0.png"])
    settings.GENERATION_DATASET_MAX_DECODED_PIXELS = 3 * each
    with mock.patch("generation.services.datasets.image_clean", wraps=uploads.image_clean) as decode:
        response = upload(artist_client, {"shapes.zip": zip_bytes(files)})
    assert response.status_code == 413, response.json()
    body = response.json()
    assert body["code"] == "too_many_pixels" and body["limit"] == 3 * each
    assert decode.call_count == 0  # the headers were enough to stop; nothing was decoded
    assert not Dataset.objects.exists() and not stored_files(Path(settings.MEDIA_ROOT))


def test_an_upload_within_the_decode_cap_is_accepted(artist_client, settings):
    files = {f"shapes/{i}.png": shape_image(i) for i in range(6)}
    settings.GENERATION_DATASET_MAX_DECODED_PIXELS = 6 * _pixels(files["shapes/0.png"])
    with mock.patch("generation.services.datasets.image_clean", wraps=uploads.image_clean) as decode:
        accepted = upload(artist_client, {"shapes.zip": zip_bytes(files)}, process=False)
    assert accepted.status_code == 202 and decode.call_count == 0, accepted.json()
    run_queued_tasks(queues="default")
    body = artist_client.get(accepted["Location"]).json()
    assert body["state"] == "ready" and body["image_count"] == 6


def test_the_job_holds_the_cap_too(artist_client, settings):
    """Should the request's header count ever be bypassed, the job refuses past the cap before decoding."""
    files = {f"shapes/{i}.png": shape_image(i) for i in range(6)}
    settings.GENERATION_DATASET_MAX_DECODED_PIXELS = 6 * _pixels(files["shapes/0.png"])
    accepted = upload(artist_client, {"shapes.zip": zip_bytes(files)}, process=False)
    settings.GENERATION_DATASET_MAX_DECODED_PIXELS = 3 * _pixels(files["shapes/0.png"])
    with mock.patch("generation.services.datasets.image_clean", wraps=uploads.image_clean) as decode:
        run_queued_tasks(queues="default")
    assert decode.call_count == 3
    body = artist_client.get(accepted["Location"]).json()
    assert body["state"] == "failed" and body["failure_code"] == "too_many_pixels"
    assert not DatasetImage.objects.exists()
