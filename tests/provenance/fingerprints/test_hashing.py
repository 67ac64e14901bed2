import hashlib
import io
import os
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image

from bench.synthetic_images import cropped, encode_jpeg, encode_png, resized, synthetic_image
from provenance.fingerprints.hashing import (
    PDQ_MATCH_DISTANCE,
    hamming_distance,
    pdq_from_bytes,
    pdq_from_image,
    pdq_from_pixels,
    sha256_hex,
    sha256_of_bytes,
)

SEEDS = range(24)


class RecordingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_sizes: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.read_sizes.append(size)
        return super().read(size)


def test_sha256_is_streamed_in_chunks():
    data = os.urandom(100_000)
    stream = RecordingStream(data)
    assert sha256_hex(stream, chunk_size=4096) == hashlib.sha256(data).hexdigest()
    assert set(stream.read_sizes) == {4096}
    assert len(stream.read_sizes) == 100_000 // 4096 + 2  # full chunks, the tail, the empty read


def test_sha256_of_a_file_matches_sha256_of_its_bytes(tmp_path: Path):
    data = os.urandom(3_000_000)
    path = tmp_path / "art.bin"
    path.write_bytes(data)
    with path.open("rb") as stream:
        assert sha256_hex(stream) == sha256_of_bytes(data) == hashlib.sha256(data).hexdigest()


def test_pdq_is_64_hex_chars_in_pdq_bit_order_with_quality():
    image = synthetic_image(1, size=(200, 160))
    result = pdq_from_image(image)
    assert len(result.hash_hex) == 64 and int(result.hash_hex, 16) >= 0
    bits, quality = pdqhash.compute(np.asarray(image))
    assert result.quality == quality
    # PDQ's text form writes bit 255 first; pdqhash's vector lists bit 255 first too
    assert format(int(result.hash_hex, 16), "0256b") == "".join(str(int(b)) for b in bits)
    assert bin(int(result.hash_hex, 16)).count("1") == 128  # PDQ thresholds at the median


def test_pdq_is_the_same_from_image_bytes_and_other_modes():
    image = synthetic_image(2)
    expected = pdq_from_image(image)
    assert pdq_from_bytes(encode_png(image)) == expected
    assert pdq_from_image(image.convert("RGBA")) == expected
    assert pdq_from_image(image.convert("L")).hash_hex == pdq_from_image(image.convert("L").convert("RGB")).hash_hex


def test_pdq_of_a_flat_image_has_low_quality():
    assert pdq_from_image(Image.new("RGB", (128, 128), (90, 90, 90))).quality < 50
    assert pdq_from_image(synthetic_image(3)).quality >= 50


def test_large_images_are_downscaled_first_and_stay_close_to_full_size_pdq():
    big = synthetic_image(4, size=(1400, 1100))
    assert hamming_distance(pdq_from_image(big).hash_hex, pdq_from_pixels(np.asarray(big)).hash_hex) <= 16


def test_pdq_rejects_arrays_that_are_not_rgb_uint8():
    with pytest.raises(ValueError):
        pdq_from_pixels(np.zeros((64, 64), dtype=np.uint8))


def distances(transform) -> list[int]:
    out = []
    for seed in SEEDS:
        image = synthetic_image(seed, size=(256, 256))
        out.append(hamming_distance(pdq_from_image(image).hash_hex, pdq_from_image(transform(image)).hash_hex))
    return out


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda im: resized(im, scale=0.5), id="half-size"),
        pytest.param(lambda im: resized(im, scale=1.5), id="enlarged"),
        pytest.param(lambda im: Image.open(io.BytesIO(encode_jpeg(im, quality=75))), id="jpeg-75"),
        pytest.param(lambda im: cropped(im, fraction=0.01), id="crop-1pc"),
    ],
)
def test_altered_copies_stay_within_match_distance(transform):
    assert max(distances(transform)) <= PDQ_MATCH_DISTANCE


def test_most_copies_cropped_by_two_percent_still_match():
    # PDQ is only mildly crop-tolerant: a 2% crop shifts the 64x64 grid it samples
    within = [d <= PDQ_MATCH_DISTANCE for d in distances(lambda im: cropped(im, fraction=0.02))]
    assert sum(within) >= 0.75 * len(within)


def test_unrelated_images_are_far_apart():
    hashes = [pdq_from_image(synthetic_image(seed)).hash_hex for seed in SEEDS]
    nearest = min(hamming_distance(a, b) for i, a in enumerate(hashes) for b in hashes[:i])
    assert nearest > 2 * PDQ_MATCH_DISTANCE


def test_hamming_distance_counts_differing_bits():
    a = "00" * 32
    assert hamming_distance(a, a) == 0
    assert hamming_distance(a, "ff" * 32) == 256
    assert hamming_distance(a, "80" + "00" * 30 + "01") == 2
    assert hamming_distance(bytes(32), bytes.fromhex("03" + "00" * 31)) == 2
    with pytest.raises(ValueError):
        hamming_distance("00", "0000")
