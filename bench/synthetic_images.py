"""Varied synthetic pictures for tests and benchmarks: smooth colour gradients, low-frequency waves and
random shapes, so perceptual hashes have structure to work on. Deterministic per seed; no downloads."""

import io

import numpy as np
from PIL import Image, ImageDraw

MIN_SIDE = 64
MAX_SIDE = 256


def synthetic_image(seed: int, *, size: tuple[int, int] | None = None) -> Image.Image:
    rng = np.random.default_rng(seed)
    width, height = size if size is not None else (int(v) for v in rng.integers(MIN_SIDE, MAX_SIDE + 1, 2))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ys /= height
    xs /= width
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xs + np.sin(angle) * ys)[..., None]
    start, end = rng.uniform(0, 255, (2, 3)).astype(np.float32)
    pixels = start + (end - start) * (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    for _ in range(int(rng.integers(1, 4))):  # a few low-frequency waves
        fx, fy = rng.uniform(0.5, 4.0, 2)
        phase = rng.uniform(0, 2 * np.pi)
        amplitude = rng.uniform(15, 50, 3).astype(np.float32)
        pixels += amplitude * np.sin(2 * np.pi * (fx * xs + fy * ys) + phase)[..., None]
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(3, 9))):
        x0, x1 = sorted(int(v) for v in rng.integers(0, width, 2))
        y0, y1 = sorted(int(v) for v in rng.integers(0, height, 2))
        box = (x0, y0, max(x1, x0 + width // 8), max(y1, y0 + height // 8))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        match int(rng.integers(0, 4)):
            case 0:
                draw.ellipse(box, fill=colour)
            case 1:
                draw.rectangle(box, fill=colour)
            case 2:
                points = [(int(rng.integers(0, width)), int(rng.integers(0, height))) for _ in range(3)]
                draw.polygon(points, fill=colour)
            case _:
                draw.line(box, fill=colour, width=int(rng.integers(2, 8)))
    return image


def encode_png(image: Image.Image, *, compress_level: int = 1) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def encode_jpeg(image: Image.Image, *, quality: int = 75) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def resized(image: Image.Image, *, scale: float) -> Image.Image:
    width, height = image.size
    return image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BILINEAR)


def cropped(image: Image.Image, *, fraction: float) -> Image.Image:
    """Cut `fraction` of the width and height off, split between the four sides."""
    width, height = image.size
    dx, dy = round(width * fraction / 2), round(height * fraction / 2)
    return image.crop((dx, dy, width - dx, height - dy))
