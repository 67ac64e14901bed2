"""Draw images from an exported model.

    python -m generation.gan.sample --model M.onnx --count N --seed S --out DIR [--class K] [--truncation PSI]

Image i uses seed S+i (see generation.gan.noise); the same arguments write byte-identical PNGs. A conditional
model draws class K (an index or a class name) or, without --class, class (seed mod number of classes).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from generation.gan.export import read_model_metadata
from generation.gan.noise import MAX_SEED, latents_for_seeds
from generation.gan.onnx_runner import make_session, run_generator

BATCH_SIZE = 64


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m generation.gan.sample", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="an exported model.onnx")
    parser.add_argument("--count", type=int, required=True, help="number of images")
    parser.add_argument("--seed", type=int, required=True, help="seed of the first image")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNGs")
    parser.add_argument("--class", dest="class_", default=None, help="class index or name (conditional models)")
    parser.add_argument("--truncation", type=float, default=1.0, help="psi in [0, 1]; 1 = no truncation")
    return parser


def resolve_class(value: str | None, metadata: dict) -> int | None:
    if value is None:
        return None
    if not metadata["conditional"]:
        raise ValueError("--class given, but this model is unconditional")
    names = metadata["class_names"]
    index = int(value) if value.lstrip("-").isdigit() else (names.index(value) if value in names else None)
    if index is None or not 0 <= index < metadata["num_classes"]:
        raise ValueError(f"--class must be 0..{metadata['num_classes'] - 1} or one of {names}, got {value!r}")
    return index


def sample(
    *,
    model: Path,
    count: int,
    seed: int,
    out_dir: Path,
    class_index: int | None = None,
    truncation: float = 1.0,
) -> list[Path]:
    metadata = read_model_metadata(model)
    if count < 1:
        raise ValueError("--count must be at least 1")
    if not 0 <= seed <= MAX_SEED - count + 1:
        raise ValueError(f"--seed must be between 0 and {MAX_SEED - count + 1}")
    session = make_session(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for start in range(seed, seed + count, BATCH_SIZE):
        seeds = list(range(start, min(start + BATCH_SIZE, seed + count)))
        labels = None
        if metadata["conditional"]:
            labels = np.array(
                [class_index if class_index is not None else s % metadata["num_classes"] for s in seeds],
                dtype=np.int64,
            )
        images = run_generator(session, latents_for_seeds(seeds, metadata["latent_dim"], truncation), labels)
        for i, (image_seed, image) in enumerate(zip(seeds, images, strict=True)):
            suffix = f"-class{labels[i]}" if labels is not None else ""
            path = out_dir / f"seed{image_seed:010d}{suffix}.png"
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format="PNG")
            path.write_bytes(buffer.getvalue())
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if not args.model.is_file():
            raise ValueError(f"model not found: {args.model}")
        metadata = read_model_metadata(args.model)
        written = sample(
            model=args.model,
            count=args.count,
            seed=args.seed,
            out_dir=args.out,
            class_index=resolve_class(args.class_, metadata),
            truncation=args.truncation,
        )
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} images to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
