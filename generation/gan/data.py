"""Image-folder datasets, preprocessed once into a tensor file, and a toy-data writer.

Layout: class subfolders are labels (`dir/cats/*.png`, `dir/dogs/*.png`); a flat folder is one class.
Every image is centre-cropped to a square and resized to the training resolution. Exact duplicates (same file
bytes) are kept once. The dataset hash is sha256 over the sorted per-image sha256s (of the source files), so
it names the set of images whatever their names, order or preprocessing.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageOps

from generation.gan.files import atomic_torch_save

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"})
FILE_FORMAT = "atelier.gan-dataset/1"
TOY_SHAPES = ("circle", "square", "triangle", "diamond", "cross", "ring", "star", "hexagon")


class DatasetError(ValueError):
    """The image folder or tensor file cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class PreparedDataset:
    images: torch.Tensor  # [N, 3, R, R] uint8
    labels: torch.Tensor  # [N] int64, indexes class_names
    class_names: tuple[str, ...]
    dataset_hash: str
    resolution: int

    @property
    def num_images(self) -> int:
        return int(self.images.shape[0])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


class BatchSampler:
    """Endless shuffled passes over the dataset; a batch may straddle two passes."""

    def __init__(self, *, num_items: int, batch_size: int, generator: torch.Generator) -> None:
        self.num_items, self.batch_size, self.generator = num_items, batch_size, generator
        self.order = torch.empty(0, dtype=torch.int64)
        self.position = 0

    def next_batch(self) -> torch.Tensor:
        parts, needed = [], self.batch_size
        while needed:
            if self.position == len(self.order):
                self.order = torch.randperm(self.num_items, generator=self.generator)
                self.position = 0
            take = min(needed, len(self.order) - self.position)
            parts.append(self.order[self.position : self.position + take])
            self.position += take
            needed -= take
        return torch.cat(parts)  # [B] int64

    def state_dict(self) -> dict[str, Any]:
        return {"order": self.order.clone(), "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.order, self.position = state["order"].clone(), int(state["position"])


def find_images(image_dir: Path) -> list[tuple[Path, str]]:
    """(path, class name) for every image, sorted by class then file name."""
    image_dir = Path(image_dir)
    if not image_dir.is_dir():
        raise DatasetError(f"data directory not found: {image_dir}")
    class_dirs = sorted(p for p in image_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "__")))
    by_class = [(d.name, _images_in(d)) for d in class_dirs]
    by_class = [(name, files) for name, files in by_class if files]
    loose = _images_in(image_dir)
    if by_class and loose:
        raise DatasetError(f"{image_dir} mixes images with class subfolders; put every image in a subfolder")
    if not by_class:
        by_class = [(image_dir.name or "images", loose)]
    found = [(path, name) for name, files in by_class for path in files]
    if not found:
        raise DatasetError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {image_dir}")
    return found


def _images_in(directory: Path) -> list[Path]:
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )


def load_image(path: Path, *, resolution: int) -> np.ndarray:
    """[3, R, R] uint8: EXIF-rotated, transparency flattened onto white, centre-cropped, Lanczos-resized."""
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                rgba = image.convert("RGBA")
                image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
            image = ImageOps.fit(image.convert("RGB"), (resolution, resolution), Image.Resampling.LANCZOS)
            return np.asarray(image, dtype=np.uint8).transpose(2, 0, 1).copy()
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise DatasetError(f"cannot read image {path}: {error}") from error


def dataset_hash(image_sha256s: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(image_sha256s)).encode("ascii")).hexdigest()


def prepare_dataset(*, image_dir: Path, resolution: int, out_path: Path | None = None) -> PreparedDataset:
    """Read and preprocess every image under `image_dir`; write the tensor file to `out_path` if given."""
    found = find_images(image_dir)
    class_names = tuple(dict.fromkeys(name for _, name in found))
    seen: set[str] = set()
    arrays, labels = [], []
    for path, class_name in found:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        arrays.append(load_image(path, resolution=resolution))
        labels.append(class_names.index(class_name))
    dataset = PreparedDataset(
        images=torch.from_numpy(np.stack(arrays)),
        labels=torch.tensor(labels, dtype=torch.int64),
        class_names=class_names,
        dataset_hash=dataset_hash(seen),
        resolution=resolution,
    )
    if out_path is not None:
        save_prepared_dataset(dataset, out_path)
    return dataset


def save_prepared_dataset(dataset: PreparedDataset, path: Path) -> None:
    atomic_torch_save(
        {
            "format": FILE_FORMAT,
            "images": dataset.images.contiguous(),
            "labels": dataset.labels,
            "class_names": list(dataset.class_names),
            "dataset_hash": dataset.dataset_hash,
            "resolution": dataset.resolution,
        },
        path,
    )


def load_prepared_dataset(path: Path) -> PreparedDataset:
    try:
        data = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except (OSError, RuntimeError) as error:
        raise DatasetError(f"cannot read dataset file {path}: {error}") from error
    if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
        raise DatasetError(f"{path} is not a prepared dataset ({FILE_FORMAT})")
    images, labels = data["images"], data["labels"]
    resolution = int(data["resolution"])
    if images.dtype != torch.uint8 or tuple(images.shape[1:]) != (3, resolution, resolution):
        raise DatasetError(f"{path}: images must be uint8 [N, 3, {resolution}, {resolution}]")
    if labels.shape != (images.shape[0],):
        raise DatasetError(f"{path}: one label per image expected")
    return PreparedDataset(
        images=images,
        labels=labels,
        class_names=tuple(data["class_names"]),
        dataset_hash=str(data["dataset_hash"]),
        resolution=resolution,
    )


def write_toy_dataset(*, out_dir: Path, classes: int, per_class: int, resolution: int, seed: int) -> Path:
    """Write `classes` subfolders of `per_class` PNGs of one coloured shape each; same arguments, same bytes.

    The class of the k-th subfolder is the k-th of TOY_SHAPES (cycling, with a numeric suffix past the end).
    """
    if classes < 1 or per_class < 1:
        raise ValueError("classes and per_class must be at least 1")
    out_dir = Path(out_dir)
    rng = random.Random(seed)
    for k in range(classes):
        shape = TOY_SHAPES[k % len(TOY_SHAPES)]
        name = shape if k < len(TOY_SHAPES) else f"{shape}{k // len(TOY_SHAPES)}"
        (out_dir / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            _draw_shape(shape, rng, resolution).save(out_dir / name / f"{i:04d}.png")
    return out_dir


def _draw_shape(shape: str, rng: random.Random, resolution: int) -> Image.Image:
    scale = 4  # draw large, then downsample: cheap anti-aliasing
    size = resolution * scale
    background = tuple(rng.randrange(0, 90) for _ in range(3))
    colour = tuple(rng.randrange(120, 256) for _ in range(3))
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    radius = size * rng.uniform(0.18, 0.34)
    cx = rng.uniform(radius, size - radius)
    cy = rng.uniform(radius, size - radius)
    angle = rng.uniform(0, 2 * math.pi)
    box = (cx - radius, cy - radius, cx + radius, cy + radius)
    if shape == "circle":
        draw.ellipse(box, fill=colour)
    elif shape == "ring":
        draw.ellipse(box, outline=colour, width=max(1, int(radius * 0.35)))
    elif shape == "cross":
        arm = radius * 0.35
        for theta in (angle, angle + math.pi / 2):
            dx, dy = math.cos(theta), math.sin(theta)
            draw.line(
                (cx - dx * radius, cy - dy * radius, cx + dx * radius, cy + dy * radius),
                fill=colour,
                width=max(1, int(arm)),
            )
    else:
        corners = {"square": 4, "triangle": 3, "diamond": 4, "star": 10, "hexagon": 6}[shape]
        if shape in ("square", "diamond"):
            angle = math.pi / 4 if shape == "square" else 0.0  # upright square, square on its corner
        points = []
        for j in range(corners):
            r = radius * (0.45 if shape == "star" and j % 2 else 1.0)
            theta = angle + 2 * math.pi * j / corners
            points.append((cx + r * math.cos(theta), cy + r * math.sin(theta)))
        draw.polygon(points, fill=colour)
    return image.resize((resolution, resolution), Image.Resampling.LANCZOS)
