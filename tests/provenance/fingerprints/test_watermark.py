"""The invisible watermark: its error-correcting code, and embedding/extraction on real pixels."""

import io

import numpy as np
import pytest
from PIL import Image

from bench import synthetic_images
from provenance.fingerprints.watermark import (
    CODED_BITS,
    MIN_READ_SIDE,
    MIN_SIDE,
    WatermarkError,
    decode_soft,
    embed,
    encode_key,
    extract,
    psnr,
)

KEY = bytes.fromhex("a1b2c3d4e5f6")


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


@pytest.fixture(scope="module")
def marked() -> tuple[Image.Image, Image.Image]:
    original = synthetic_images.synthetic_image(3, size=(256, 256))
    return original, embed(original, key=KEY)


def test_the_code_corrects_flipped_bits_and_the_crc_rejects_garbage():
    coded = encode_key(KEY).astype(np.float64) * 2 - 1
    assert len(coded) == CODED_BITS
    rng = np.random.default_rng(0)
    noisy = coded.copy()
    noisy[rng.choice(CODED_BITS, 12, replace=False)] *= -1  # 12 hard errors
    assert decode_soft(noisy) == KEY
    assert decode_soft(rng.normal(size=CODED_BITS)) is None


def test_a_marked_image_gives_its_key_back_and_looks_the_same(marked):
    original, image = marked
    assert psnr(original, image) >= 38.0
    assert extract(image).key == KEY


@pytest.mark.parametrize("attack", ["jpeg75", "half_and_back", "crop5"])
def test_the_key_survives_common_edits_at_256px(marked, attack):
    _, image = marked
    altered = {
        "jpeg75": lambda: jpeg(image, 75),
        "half_and_back": lambda: synthetic_images.resized(synthetic_images.resized(image, scale=0.5), scale=2.0),
        "crop5": lambda: synthetic_images.cropped(image, fraction=0.05),
    }[attack]()
    found = extract(altered)
    assert found is not None and found.key == KEY


def test_an_unmarked_image_yields_nothing():
    assert extract(jpeg(synthetic_images.synthetic_image(4, size=(256, 256)), 75)) is None


def test_images_too_small_to_carry_a_key_are_refused_and_read_as_unmarked():
    small = synthetic_images.synthetic_image(5, size=(MIN_SIDE - 1, 200))
    with pytest.raises(WatermarkError):
        embed(small, key=KEY)
    assert extract(synthetic_images.synthetic_image(5, size=(MIN_READ_SIDE - 1, 200))) is None
    with pytest.raises(WatermarkError):
        embed(synthetic_images.synthetic_image(5, size=(256, 256)), key=b"short")


def test_batched_embedding_equals_invisible_watermarks_own_block_call():
    from imwatermark.dwtDctSvd import EmbedDwtDctSvd

    from provenance.fingerprints.watermark import BLOCK, STRENGTHS, _diffuse

    STRENGTH = STRENGTHS[0]

    rng = np.random.default_rng(1)
    low = rng.uniform(0, 500, (2 * BLOCK, 3 * BLOCK))
    carried = np.array([[0, 1, -1], [1, 0, 1]])
    expected = low.copy()
    library = EmbedDwtDctSvd(block=BLOCK)
    for i in range(2):
        for j in range(3):
            if carried[i, j] >= 0:
                window = (slice(i * BLOCK, (i + 1) * BLOCK), slice(j * BLOCK, (j + 1) * BLOCK))
                expected[window] = library.diffuse_dct_svd(low[window].copy(), int(carried[i, j]), STRENGTH)
    np.testing.assert_allclose(_diffuse(low, carried, STRENGTH), expected, atol=1e-6)


def test_scoring_every_shift_at_once_equals_one_shift_at_a_time():
    from provenance.fingerprints.watermark import TILE, _channel_scores, _tile_votes, _to_yuv, _votes_at_every_shift

    yuv = _to_yuv(synthetic_images.synthetic_image(6, size=(130, 150)))[3:123, 5:141]
    scores = _channel_scores(yuv, 1.0)
    every = _votes_at_every_shift(scores)
    for shift in (0, 1, TILE + 5, TILE * TILE - 1):
        np.testing.assert_allclose(every[:, shift], np.stack(_tile_votes(scores, *divmod(shift, TILE))))


def test_the_fast_read_skips_the_search_a_crop_needs(marked):
    _, image = marked
    cropped = synthetic_images.cropped(image, fraction=0.05)
    assert extract(image, search=False).key == KEY
    assert extract(cropped, search=False) is None and extract(cropped).key == KEY
