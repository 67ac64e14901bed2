"""Sample grids and loss curves as PNGs, drawn with Pillow alone."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from generation.gan.files import atomic_write

CURVE_COLOURS = {"d_loss": (214, 39, 40), "g_loss": (31, 119, 180)}


def image_grid(images: np.ndarray, *, columns: int | None = None, padding: int = 2) -> Image.Image:
    """[N, H, W, 3] uint8 -> one RGB image, `columns` wide (default: as square as possible)."""
    n, h, w, _ = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.zeros((rows * (h + padding) + padding, columns * (w + padding) + padding, 3), dtype=np.uint8)
    for i in range(n):
        top, left = padding + (i // columns) * (h + padding), padding + (i % columns) * (w + padding)
        grid[top : top + h, left : left + w] = images[i]
    return Image.fromarray(grid)


def save_png(image: Image.Image, path: Path) -> Path:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    atomic_write(Path(path), lambda handle: handle.write(buffer.getvalue()))
    return Path(path)


def loss_curve(
    history: dict[str, Sequence[float]], *, first_step: int = 1, size: tuple[int, int] = (640, 320)
) -> Image.Image:
    """Each series raw (faint) and as a moving average (solid), against the training step."""
    width, height = size
    left, right, top, bottom = 56, 12, 12, 28
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    series = {name: np.asarray(values, dtype=np.float64) for name, values in history.items() if len(values)}
    draw.rectangle((left, top, width - right, height - bottom), outline=(160, 160, 160))
    if not series:
        draw.text((left + 8, top + 8), "no losses yet", fill="black", font=font)
        return image
    finite = np.concatenate([v[np.isfinite(v)] for v in series.values()])
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    steps = max(len(v) for v in series.values())

    def to_xy(index: np.ndarray, value: np.ndarray) -> list[tuple[float, float]]:
        x = left + (index / max(steps - 1, 1)) * (width - left - right)
        y = top + (1 - (value - low) / (high - low)) * (height - top - bottom)
        return list(zip(x.tolist(), y.tolist(), strict=True))

    for name, values in series.items():
        colour = CURVE_COLOURS.get(name, (90, 90, 90))
        faint = tuple(int(c + (255 - c) * 0.7) for c in colour)
        index = np.arange(len(values), dtype=np.float64)
        points = _thin(to_xy(index, np.nan_to_num(values, nan=low, posinf=high, neginf=low)), width)
        if len(points) > 1:
            draw.line(points, fill=faint, width=1)
        window = max(1, len(values) // 50)
        smooth = np.convolve(values, np.ones(window) / window, mode="valid")
        points = _thin(to_xy(index[window - 1 :], np.nan_to_num(smooth, nan=low)), width)
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
    for value, y in ((high, top), (low, height - bottom)):
        draw.text((4, y - 6), f"{value:.3g}", fill="black", font=font)
    draw.text((left, height - bottom + 8), f"step {first_step}", fill="black", font=font)
    last_label = f"step {first_step + steps - 1}"
    draw.text((width - right - 80, height - bottom + 8), last_label, fill="black", font=font)
    for i, name in enumerate(series):
        draw.text((left + 8 + 70 * i, top + 4), name, fill=CURVE_COLOURS.get(name, (90, 90, 90)), font=font)
    return image


def _thin(points: list[tuple[float, float]], width: int) -> list[tuple[float, float]]:
    # more points than pixels only slows drawing down
    stride = max(1, len(points) // (2 * width))
    return points[::stride]
