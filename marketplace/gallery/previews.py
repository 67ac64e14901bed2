"""Public previews: a downscaled copy of the original with a visible, tiled, diagonal watermark.

The watermark is drawn in white with a dark outline at partial opacity, so it stays visible on light and
dark pictures alike, and it is tiled across the whole image so cropping a corner does not remove it.
"""

import io

from PIL import Image, ImageDraw, ImageFont

from provenance.fingerprints import watermark

PREVIEW_MAX_SIDE = 800
WATERMARK_TEXT = "ATELIER · PREVIEW"
WATERMARK_OPACITY = 110  # of 255
WATERMARK_ANGLE = 30
PREVIEW_FORMAT = "JPEG"
PREVIEW_CONTENT_TYPE = "image/jpeg"


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError, ValueError):  # built without FreeType: the small bitmap font
        return ImageFont.load_default()


def _watermark_layer(size: tuple[int, int]) -> Image.Image:
    width, height = size
    side = int((width**2 + height**2) ** 0.5) + 2  # big enough to cover the image at any rotation
    font_size = max(8, min(width, height) // 12)
    font = _font(font_size)
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    left, top, right, bottom = draw.textbbox((0, 0), WATERMARK_TEXT, font=font)
    step_x, step_y = (right - left) + font_size * 2, (bottom - top) + font_size * 2
    outline = max(1, font_size // 12)
    for row, y in enumerate(range(0, side, step_y)):
        for x in range(-(row % 2) * step_x // 2, side, step_x):
            draw.text(
                (x, y),
                WATERMARK_TEXT,
                font=font,
                fill=(255, 255, 255, WATERMARK_OPACITY),
                stroke_width=outline,
                stroke_fill=(0, 0, 0, WATERMARK_OPACITY),
            )
    layer = layer.rotate(WATERMARK_ANGLE, resample=Image.Resampling.BICUBIC)
    offset_x, offset_y = (side - width) // 2, (side - height) // 2
    return layer.crop((offset_x, offset_y, offset_x + width, offset_y + height))


def mark_original(original: bytes, *, key: bytes) -> bytes:
    """The original (a validated PNG, RGB or RGBA) with `key` embedded invisibly, re-encoded as PNG the way
    core.uploads.image_clean stores it (alpha kept as it was). The caller checks the size (watermark.MIN_SIDE)."""
    with Image.open(io.BytesIO(original)) as source:
        source.load()
        alpha = source.getchannel("A") if source.mode == "RGBA" else None
        marked = watermark.embed(source.convert("RGB"), key=key)
    if alpha is not None:
        marked.putalpha(alpha)
    out = io.BytesIO()
    marked.save(out, format="PNG", compress_level=1)  # zlib's fastest: a quarter of level 6's time, ~30 % larger
    return out.getvalue()


def render_preview(original: bytes, *, watermark_key: bytes | None = None) -> bytes:
    """The watermarked preview (JPEG, at most PREVIEW_MAX_SIDE pixels a side) of an image we already validated.
    With `watermark_key`, the preview also carries it invisibly (provenance's watermark) when it is large
    enough to (at least provenance.fingerprints.watermark.MIN_SIDE a side); smaller previews carry the visible
    mark only."""
    with Image.open(io.BytesIO(original)) as source:
        source.load()
        image = source.convert("RGBA")
    image.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE), Image.Resampling.LANCZOS)
    image = Image.alpha_composite(Image.new("RGBA", image.size, (255, 255, 255, 255)), image)  # JPEG has no alpha
    marked = Image.alpha_composite(image, _watermark_layer(image.size)).convert("RGB")
    if watermark_key is not None and min(marked.size) >= watermark.MIN_SIDE:
        marked = watermark.embed(marked, key=watermark_key)
    out = io.BytesIO()
    marked.save(out, format=PREVIEW_FORMAT, quality=85)
    return out.getvalue()
