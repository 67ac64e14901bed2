"""Small image sets for bench.quality, built at run time from what ships on this machine (fonts, numpy, Pillow).

Every builder is a pure function of (count, seed) and the installed fonts: the same inputs draw byte-identical
PNGs. `materialise` writes a set under var/ in a folder named by a digest of the builder's source, its
parameters and the font files, so a changed builder or font makes a new folder instead of reusing stale images.

- `glyphs`: ten letters (class subfolders) rendered from the DejaVu family, with random style, size, tilt,
  position, ink and paper — the labelled set, so conditional training is exercised.
- `landscapes`: sky gradients, a sun, three or four mountain ridges of fractal noise with atmospheric
  perspective, sometimes a lake reflecting them.
- `textiles`: stripes, plaids, polka dots, waves and checks in random harmonious palettes, scales and angles.
- `probe`: what the feature network learns on (bench.features) and nothing is generated from: digits in the
  Liberation fonts and six other procedural kinds (rings, Voronoi cells, strokes, clouds, triangles, radial
  gradients).
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from generation.gan import procedural
from generation.gan.procedural import hsv as _hsv
from generation.gan.procedural import landscape

SIDE = 64
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
GLYPH_CLASSES = ("A", "B", "G", "R", "S", "a", "e", "g", "k", "y")
PROBE_DIGITS = tuple("0123456789")
PROBE_KINDS = ("rings", "voronoi", "strokes", "clouds", "triangles", "radial")


@dataclass(frozen=True)
class Sample:
    image: Image.Image  # RGB, SIDE x SIDE
    label: str | None  # class name, None for unlabelled sets


def font_files(family_prefix: str) -> list[Path]:
    """Installed .ttf files whose name starts with `family_prefix`, sorted (math fonts left out)."""
    found = []
    for folder in FONT_DIRS:
        if folder.is_dir():
            found += [p for p in folder.glob(f"{family_prefix}*.ttf") if "Math" not in p.name]
    return sorted(found)


# ---- colours ------------------------------------------------------------------------------------------------


def _palette(rng: np.random.Generator, n: int) -> list[tuple[int, int, int]]:
    """n colours around a random hue (analogous or complementary scheme)."""
    base = rng.random()
    spread = rng.choice([0.08, 0.5, 0.33])
    return [
        _hsv(base + spread * i + rng.normal(0, 0.02), rng.uniform(0.35, 0.9), rng.uniform(0.35, 0.95)) for i in range(n)
    ]


# ---- glyphs -------------------------------------------------------------------------------------------------


def _render_glyph(rng: np.random.Generator, char: str, fonts: list[Path]) -> Image.Image:
    scale = 4
    big = SIDE * scale
    paper = _hsv(rng.random(), rng.uniform(0.0, 0.25), rng.uniform(0.85, 1.0))
    ink = _hsv(rng.random(), rng.uniform(0.4, 1.0), rng.uniform(0.05, 0.55))
    font = ImageFont.truetype(str(fonts[rng.integers(len(fonts))]), size=int(big * rng.uniform(0.55, 0.8)))
    layer = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(layer)
    left, top, right, bottom = draw.textbbox((0, 0), char, font=font)
    x = (big - (right - left)) / 2 - left + rng.uniform(-0.08, 0.08) * big
    y = (big - (bottom - top)) / 2 - top + rng.uniform(-0.08, 0.08) * big
    draw.text((x, y), char, fill=255, font=font)
    layer = layer.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BICUBIC)
    image = Image.composite(Image.new("RGB", (big, big), ink), Image.new("RGB", (big, big), paper), layer)
    return image.resize((SIDE, SIDE), Image.Resampling.LANCZOS)


def glyphs(count: int, seed: int) -> list[Sample]:
    fonts = font_files("DejaVu")
    if not fonts:
        raise RuntimeError(f"no DejaVu fonts under {FONT_DIRS[0]} (Debian package fonts-dejavu-core)")
    rng = np.random.default_rng([seed, 1])
    return [
        Sample(_render_glyph(rng, GLYPH_CLASSES[i % len(GLYPH_CLASSES)], fonts), GLYPH_CLASSES[i % len(GLYPH_CLASSES)])
        for i in range(count)
    ]


# ---- landscapes ---------------------------------------------------------------------------------------------


def landscapes(count: int, seed: int) -> list[Sample]:
    rng = np.random.default_rng([seed, 2])
    return [Sample(landscape(rng, SIDE), None) for _ in range(count)]


# ---- textiles -----------------------------------------------------------------------------------------------


def _rotated_coords(rng: np.random.Generator, side: int) -> tuple[np.ndarray, np.ndarray]:
    angle = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64) - side / 2
    return xx * np.cos(angle) + yy * np.sin(angle), -xx * np.sin(angle) + yy * np.cos(angle)


def _textile(rng: np.random.Generator) -> Image.Image:
    side = SIDE * 2
    kind = rng.choice(["stripes", "plaid", "polka", "waves", "checks"])
    colours = np.array(_palette(rng, int(rng.integers(2, 5))), dtype=np.float64)
    u, v = _rotated_coords(rng, side)
    period = rng.uniform(8, 32)
    if kind == "stripes":
        index = np.floor(u / period * len(colours)).astype(int) % len(colours)
        canvas = colours[index]
    elif kind == "plaid":
        a = colours[np.floor(u / period * len(colours)).astype(int) % len(colours)]
        b = colours[np.floor(v / period * len(colours)).astype(int) % len(colours)]
        canvas = (a + b) / 2
    elif kind == "polka":
        radius = rng.uniform(0.15, 0.4) * period
        cell_v = np.floor(v / period)
        shifted = u + (cell_v % 2) * period / 2
        du = (shifted % period) - period / 2
        dv = (v % period) - period / 2
        inside = np.hypot(du, dv) < radius
        canvas = np.where(inside[..., None], colours[1], colours[0])
    elif kind == "waves":
        phase = v + rng.uniform(2, 8) * np.sin(u / rng.uniform(4, 12))
        index = np.floor(phase / period * len(colours)).astype(int) % len(colours)
        canvas = colours[index]
    else:
        index = (np.floor(u / period) + np.floor(v / period)).astype(int) % 2
        canvas = colours[index]
    thread = np.sin(np.arange(side) * np.pi / 2)
    weave = 1 + 0.06 * thread[None, :, None] * thread[:, None, None]
    image = Image.fromarray(np.clip(canvas * weave, 0, 255).astype(np.uint8))
    return image.resize((SIDE, SIDE), Image.Resampling.LANCZOS)


def textiles(count: int, seed: int) -> list[Sample]:
    rng = np.random.default_rng([seed, 3])
    return [Sample(_textile(rng), None) for _ in range(count)]


# ---- probe (feature-network training data; never generated from) --------------------------------------------


def _probe_kind(rng: np.random.Generator, kind: str) -> Image.Image:
    side = SIDE
    colours = np.array(_palette(rng, 3), dtype=np.float64)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64)
    cx, cy = rng.uniform(0.2, 0.8, 2) * side
    if kind == "rings":
        index = (np.hypot(xx - cx, yy - cy) // rng.uniform(3, 10)).astype(int) % 2
        canvas = colours[index]
    elif kind == "voronoi":
        points = rng.uniform(0, side, (int(rng.integers(5, 20)), 2))
        nearest = np.argmin((xx[..., None] - points[:, 0]) ** 2 + (yy[..., None] - points[:, 1]) ** 2, axis=-1)
        canvas = colours[nearest % 3]
    elif kind == "radial":
        t = np.clip(np.hypot(xx - cx, yy - cy) / side, 0, 1)[..., None]
        canvas = colours[0] * (1 - t) + colours[1] * t
    elif kind == "clouds":
        noise = np.zeros((side, side))
        for octave in range(1, 5):
            cells = 2**octave
            coarse = rng.random((cells + 1, cells + 1))
            grid = np.linspace(0, cells, side)
            rows = np.array([np.interp(grid, np.arange(cells + 1), r) for r in coarse])
            noise += np.array([np.interp(grid, np.arange(cells + 1), c) for c in rows.T]).T / octave
        t = ((noise - noise.min()) / (np.ptp(noise) + 1e-9))[..., None]
        canvas = colours[0] * (1 - t) + colours[2] * t
    else:
        image = Image.new("RGB", (side, side), tuple(int(c) for c in colours[0]))
        draw = ImageDraw.Draw(image)
        for _ in range(int(rng.integers(3, 9))):
            fill = tuple(int(c) for c in colours[int(rng.integers(1, 3))])
            if kind == "strokes":
                draw.line([tuple(rng.uniform(0, side, 2)) for _ in range(2)], fill=fill, width=int(rng.integers(1, 5)))
            else:
                draw.polygon([tuple(rng.uniform(0, side, 2)) for _ in range(3)], fill=fill)
        return image
    return Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))


def probe(count: int, seed: int) -> list[Sample]:
    fonts = font_files("Liberation")
    classes = [f"digit{d}" for d in PROBE_DIGITS] * bool(fonts) + list(PROBE_KINDS)
    rng = np.random.default_rng([seed, 4])
    samples = []
    for i in range(count):
        name = classes[i % len(classes)]
        if name.startswith("digit"):
            samples.append(Sample(_render_glyph(rng, name[-1], fonts), name))
        else:
            samples.append(Sample(_probe_kind(rng, name), name))
    return samples


BUILDERS: dict[str, Callable[[int, int], list[Sample]]] = {
    "glyphs": glyphs,
    "landscapes": landscapes,
    "textiles": textiles,
    "probe": probe,
}
BENCH_SETS = ("glyphs", "landscapes", "textiles")


# ---- on disk ------------------------------------------------------------------------------------------------


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def set_digest(name: str, count: int, seed: int) -> str:
    """What the images depend on: this module's code, the parameters and the font files (name and size)."""
    fonts = [(p.name, p.stat().st_size) for p in font_files("DejaVu") + font_files("Liberation")]
    code = inspect.getsource(inspect.getmodule(set_digest)) + inspect.getsource(procedural)
    key = json.dumps({"code": code, "name": name, "count": count, "seed": seed, "fonts": fonts, "side": SIDE})
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def materialise(*, name: str, count: int, seed: int, root: Path, resolution: int = SIDE) -> Path:
    """The set's folder at `resolution` (class subfolders for labelled sets), built once and then reused."""
    folder = root / f"{name}-n{count}-s{seed}-{set_digest(name, count, seed)}" / str(resolution)
    if (folder / ".complete").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for index, sample in enumerate(BUILDERS[name](count, seed)):
        image = sample.image
        if resolution != SIDE:
            image = image.resize((resolution, resolution), Image.Resampling.LANCZOS)
        target = folder / sample.label if sample.label else folder
        target.mkdir(exist_ok=True)
        (target / f"{index:05d}.png").write_bytes(png_bytes(image))
    (folder / ".complete").write_text("ok\n")
    return folder


def load_folder(folder: Path) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """(uint8 images [N, H, W, 3], labels [N] or None, class names) of a materialised set, in file order."""
    paths = sorted(folder.rglob("*.png"))
    class_names = sorted({p.parent.name for p in paths if p.parent != folder})
    images = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths])
    if not class_names:
        return images, None, []
    labels = np.array([class_names.index(p.parent.name) for p in paths], dtype=np.int64)
    return images, labels, class_names
