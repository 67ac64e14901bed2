"""Public previews carry the invisible watermark when they are large enough to."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from bench.synthetic_images import encode_png, synthetic_image
from marketplace.gallery.models import Artwork
from provenance.fingerprints.watermark import extract
from tests.marketplace.gallery.helpers import upload


@pytest.mark.django_db
def test_a_preview_carries_the_first_48_bits_of_the_originals_sha256(artist_client):
    created = upload(artist_client, raw=encode_png(synthetic_image(8, size=(256, 256)))).json()
    artwork = Artwork.objects.get(public_id=created["id"])
    with default_storage.open(artwork.preview.name) as stored:
        found = extract(Image.open(io.BytesIO(stored.read())).convert("RGB"))
    assert found is not None and found.key.hex() == artwork.content_sha256[:12]


@pytest.mark.django_db
def test_a_preview_too_small_to_carry_it_has_the_visible_mark_only(artist_client):
    created = upload(artist_client, raw=encode_png(synthetic_image(9, size=(64, 64)))).json()
    artwork = Artwork.objects.get(public_id=created["id"])
    with default_storage.open(artwork.preview.name) as stored:
        assert extract(Image.open(io.BytesIO(stored.read())).convert("RGB")) is None
