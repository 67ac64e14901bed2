"""Profile pictures: an uploaded image, validated like every upload (core.uploads), cropped to a square and
stored as a small PNG under a content-addressed name, so a changed avatar gets a new URL and caches stay right."""

import io

from PIL import Image, ImageOps

from core.uploads import image_clean

AVATAR_SIDE = 256
AVATAR_MAX_BYTES = 5 * 1024 * 1024
AVATAR_MAX_PIXELS = 25_000_000
AVATAR_CONTENT_TYPE = "image/png"


def avatar_render(*, raw: bytes, name: str) -> bytes:
    """A square AVATAR_SIDE px PNG from an untrusted upload; ImageRejected/PayloadTooLarge say why not."""
    clean = image_clean(raw=raw, name=name, max_bytes=AVATAR_MAX_BYTES, max_pixels=AVATAR_MAX_PIXELS)
    with Image.open(io.BytesIO(clean.data)) as image:
        square = ImageOps.fit(
            image.convert("RGBA" if image.mode == "RGBA" else "RGB"),
            (AVATAR_SIDE, AVATAR_SIDE),
            Image.Resampling.LANCZOS,
        )
    out = io.BytesIO()
    square.save(out, format="PNG", optimize=True)
    return out.getvalue()
