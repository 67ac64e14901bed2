"""Finding 11 (part): what one dataset upload may make the web worker decode is capped in total. A zip of many
small files that each pass the per-image pixel cap is refused (413) from the image headers, before decoding."""

import io
from unittest import mock

import pytest
from PIL import Image

from core import uploads
from generation.models import Dataset
from tests.generation.factories import shape_image, upload, zip_bytes

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
    assert decode.call_count == 3  # the fourth image's header was enough to stop
    assert not Dataset.objects.exists()


def test_an_upload_within_the_decode_cap_is_accepted(artist_client, settings):
    files = {f"shapes/{i}.png": shape_image(i) for i in range(6)}
    settings.GENERATION_DATASET_MAX_DECODED_PIXELS = 6 * _pixels(files["shapes/0.png"])
    response = upload(artist_client, {"shapes.zip": zip_bytes(files)})
    assert response.status_code == 201, response.json()
