"""Exact (sha256) and perceptual (PDQ) hashes of artworks, and Hamming distance between PDQ hashes."""

import hashlib
import io
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pdqhash
from PIL import Image

SHA256_CHUNK_BYTES = 1 << 20
# The PDQ reference tools downsample larger images to 512 px before hashing: the hash barely moves
# (PDQ itself reduces to 64x64) and hashing a 4000 px photo at full size takes ~100x longer.
PDQ_MAX_SIDE = 512
PDQ_MATCH_DISTANCE = 31
PDQ_BITS = 256


@dataclass(frozen=True, slots=True)
class PdqHash:
    hash_hex: str  # 64 hex characters, most significant bit first (PDQ's own text form)
    quality: int  # 0..100; below ~50 the image has too little structure to match reliably

    @property
    def digest(self) -> bytes:
        return bytes.fromhex(self.hash_hex)


def sha256_hex(stream: BinaryIO, *, chunk_size: int = SHA256_CHUNK_BYTES) -> str:
    """sha256 of everything left in `stream`, read in chunks so large files never sit in memory."""
    digest = hashlib.sha256()
    while chunk := stream.read(chunk_size):
        digest.update(chunk)
    return digest.hexdigest()


def sha256_of_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pdq_from_image(image: Image.Image) -> PdqHash:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    if max(rgb.size) > PDQ_MAX_SIDE:
        rgb = rgb.copy()
        rgb.thumbnail((PDQ_MAX_SIDE, PDQ_MAX_SIDE), Image.Resampling.BILINEAR)
    return pdq_from_pixels(np.asarray(rgb))


def pdq_from_pixels(pixels: np.ndarray) -> PdqHash:
    """PDQ of an RGB uint8 array shaped (height, width, 3)."""
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 array (h, w, 3), got {pixels.dtype} {pixels.shape}")
    bits, quality = pdqhash.compute(np.ascontiguousarray(pixels))
    # pdqhash returns bit 255 first, which packs straight into PDQ's big-endian hex form
    return PdqHash(hash_hex=np.packbits(bits.astype(np.uint8)).tobytes().hex(), quality=int(quality))


def pdq_from_bytes(data: bytes) -> PdqHash:
    with Image.open(io.BytesIO(data)) as image:
        return pdq_from_image(image)


def hamming_distance(a: str | bytes, b: str | bytes) -> int:
    a_bytes = bytes.fromhex(a) if isinstance(a, str) else a
    b_bytes = bytes.fromhex(b) if isinstance(b, str) else b
    if len(a_bytes) != len(b_bytes):
        raise ValueError(f"hashes differ in length: {len(a_bytes)} and {len(b_bytes)} bytes")
    return (int.from_bytes(a_bytes, "big") ^ int.from_bytes(b_bytes, "big")).bit_count()
