"""Pictures the project draws itself, so the demo and the benchmarks need no downloaded images.

`landscape` paints a sky gradient, a sun with its glow, three or four mountain ridges of fractal noise with
atmospheric perspective and sometimes a lake reflecting them: a pure function of the generator's state.
"""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np
from PIL import Image

SIDE = 64


def hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return int(r * 255), int(g * 255), int(b * 255)


def _ridge(rng: np.random.Generator, width: int, roughness: float) -> np.ndarray:
    """A 1-D fractal height profile in [0, 1] (midpoint displacement), length `width`."""
    n = 1
    heights = rng.random(2)
    amplitude = 0.5
    while n < width:
        mid = (heights[:-1] + heights[1:]) / 2 + rng.normal(0, amplitude, len(heights) - 1)
        merged = np.empty(len(heights) + len(mid))
        merged[0::2], merged[1::2] = heights, mid
        heights, n, amplitude = merged, n * 2, amplitude * roughness
    profile = np.interp(np.linspace(0, len(heights) - 1, width), np.arange(len(heights)), heights)
    return (profile - profile.min()) / (np.ptp(profile) + 1e-9)


def landscape(rng: np.random.Generator, side: int = SIDE) -> Image.Image:
    """One landscape, `side` pixels square (drawn at twice that, then downsampled)."""
    final_side, side = side, side * 2
    rows = np.linspace(0, 1, side)[:, None, None]
    hue = rng.random()
    top = np.array(hsv(hue, rng.uniform(0.3, 0.8), rng.uniform(0.25, 0.8)), dtype=np.float64)
    bottom = np.array(hsv(hue + rng.uniform(-0.15, 0.15), rng.uniform(0.1, 0.6), rng.uniform(0.7, 1.0)), np.float64)
    canvas = top * (1 - rows) + bottom * rows + np.zeros((side, side, 3))
    yy, xx = np.mgrid[0:side, 0:side] / side
    sun_x, sun_y, sun_r = rng.uniform(0.15, 0.85), rng.uniform(0.1, 0.5), rng.uniform(0.04, 0.12)
    sun_colour = np.array(hsv(rng.uniform(0.0, 0.17), rng.uniform(0.0, 0.6), 1.0), np.float64)
    distance = np.hypot(xx - sun_x, yy - sun_y)
    glow = np.clip(1 - (distance - sun_r) / (sun_r * 2.5), 0, 1)[..., None] ** 2 * 0.5
    disc = (distance < sun_r)[..., None]
    canvas = canvas * (1 - glow) + sun_colour * glow
    canvas = np.where(disc, sun_colour, canvas)
    water = rng.random() < 0.4
    horizon = rng.uniform(0.6, 0.8) if water else 1.0
    layers = int(rng.integers(3, 5))
    ground_hue = rng.random()
    for layer in range(layers):
        depth = layer / max(layers - 1, 1)  # 0 = far, 1 = near
        base = rng.uniform(0.35, 0.55) + 0.3 * depth * (horizon if water else 1.0)
        height = rng.uniform(0.1, 0.3) * (1 - 0.4 * depth)
        profile = base - height * _ridge(rng, side, rng.uniform(0.45, 0.65))
        colour = np.array(
            hsv(ground_hue + rng.normal(0, 0.03), 0.2 + 0.5 * depth, 0.75 - 0.55 * depth), dtype=np.float64
        )
        colour = colour * (0.4 + 0.6 * depth) + bottom * (1 - (0.4 + 0.6 * depth))  # atmospheric perspective
        mask = (yy > profile[None, :]) & (yy <= horizon)
        canvas = np.where(mask[..., None], colour, canvas)
    if water:
        cut = int(horizon * side)
        above = canvas[:cut]
        reflection = above[::-1][: side - cut]
        tint = np.array(hsv(hue + 0.5 * rng.random(), 0.4, 0.5), np.float64)
        ripple = 0.1 * np.sin(np.arange(len(reflection)) * rng.uniform(1.0, 2.0))[:, None, None]
        canvas[cut : cut + len(reflection)] = reflection * (0.65 + ripple) + tint * (0.35 - ripple)
    image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    return image.resize((final_side, final_side), Image.Resampling.LANCZOS)


def write_landscapes(*, out_dir: Path, count: int, seed: int, side: int = SIDE) -> Path:
    """`count` landscape PNGs in `out_dir` (0000.png ...); the same arguments draw the same bytes."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 2])
    for index in range(count):
        landscape(rng, side).save(out / f"{index:04d}.png", optimize=False, compress_level=6)
    return out
