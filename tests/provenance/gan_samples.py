"""Eight 32 px outputs of the demo's tiny GAN (tests/provenance/data/gan32_strip.png), chosen because a
same-size JPEG quality-75 re-save moves their PDQ hash 34-44 bits: past the old match distance of 31, the
case the issue reported. Real generated pixels, not procedural ones (which barely move: median 12 bits)."""

import io
from pathlib import Path

import numpy as np
from PIL import Image

STRIP = Path(__file__).parent / "data" / "gan32_strip.png"
SIDE = 32


def gan_samples() -> list[Image.Image]:
    with Image.open(STRIP) as strip:
        pixels = np.asarray(strip.convert("RGB"))
    return [Image.fromarray(pixels[:, i : i + SIDE]) for i in range(0, pixels.shape[1], SIDE)]


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jpeg(image: Image.Image, quality: int = 75) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()
