"""Score the models of finished `bench.quality` runs again, in several probe networks, to see how much the verdict
depends on the yardstick rather than on the models.

    python -m bench.quality_rescore var/quality/runs/<started> [...] [--probes 1600x4,6400x16]

Each probe is COUNTxEPOCHS: that many probe-set images (bench.quality_sets.probe) and training epochs for
bench.features' network (bench.quality's --probe; 1600x4 was its yardstick until 2026-12-07). Every seed's
saved reference generator and Atelier ONNX model are sampled exactly as bench.quality samples them (the same
seeds), so only the feature network changes between columns. Prints one JSON object last: per probe, its
held-out accuracy and, per set, the medians over seeds of both sides' KID, their ratio and the per-seed ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch

from bench.features import load_feature_space
from bench.quality import (
    DEFAULT_PROBE,
    VAR,
    atelier_samples,
    load_reference,
    probe_from_text,
    reference_samples,
    score,
)
from bench.quality_sets import load_folder, materialise
from generation.gan.export import read_model_metadata


def _seed_dirs(runs: list[Path]) -> dict[str, list[Path]]:
    """{'landscapes@32': [seed dirs]} over every run given, each with both sides' saved models."""
    found: dict[str, list[Path]] = {}
    for run in runs:
        for seed_dir in sorted(run.glob("*@*/seed*")):
            if (seed_dir / "reference.pt").is_file() and (seed_dir / "atelier" / "model.onnx").is_file():
                found.setdefault(seed_dir.parent.name, []).append(seed_dir)
    return found


def _images(seed_dir: Path, samples: int) -> tuple:
    net, _ = load_reference(seed_dir / "reference.pt")
    reference = reference_samples(net, count=samples, seed=int(seed_dir.name.removeprefix("seed")))
    model = seed_dir / "atelier" / "model.onnx"
    atelier, _ = atelier_samples(model, read_model_metadata(model), samples)
    return reference, atelier


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="bench.quality run folders (var/quality/runs/...)")
    parser.add_argument("--probes", default=f"1600x4,{DEFAULT_PROBE}", help="comma list of COUNTxEPOCHS")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--set-size", type=int, default=400, help="the runs' --set-size")
    parser.add_argument("--out", type=Path, default=VAR, help="cache folder (probe networks, sets)")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    cells = _seed_dirs(args.runs)
    if not cells:
        parser.error("no seed folder with reference.pt and atelier/model.onnx under the runs given")
    spaces = {}
    for text in args.probes.split(","):
        count, epochs = probe_from_text(text)
        spaces[text] = load_feature_space(root=args.out, count=count, epochs=epochs)
    result: dict = {"runs": [str(run) for run in args.runs], "samples": args.samples, "probes": {}}
    for text, space in spaces.items():
        result["probes"][text] = {"held_out_accuracy": space.info["held_out_accuracy"], "sets": {}}
    for cell, seed_dirs in cells.items():
        set_name, resolution = cell.split("@")
        data = materialise(
            name=set_name, count=args.set_size, seed=0, root=args.out / "sets", resolution=int(resolution)
        )
        real, _, _ = load_folder(data)
        per_seed = [_images(seed_dir, args.samples) for seed_dir in seed_dirs]
        for text, space in spaces.items():
            real_f = space(real)
            kids = [
                (score(real=real_f, fake=space(ref))["kid"], score(real=real_f, fake=space(ate))["kid"])
                for ref, ate in per_seed
            ]
            reference_kid = statistics.median(k[0] for k in kids)
            atelier_kid = statistics.median(k[1] for k in kids)
            result["probes"][text]["sets"][cell] = {
                "seeds": [seed_dir.name for seed_dir in seed_dirs],
                "reference_kid": round(reference_kid, 6),
                "atelier_kid": round(atelier_kid, 6),
                "kid_ratio": round(atelier_kid / reference_kid, 4) if reference_kid > 0 else None,
                "kid_ratio_per_seed": [round(a / r, 4) if r > 0 else None for r, a in kids],
            }
            print(f"[{cell} probe {text}] {json.dumps(result['probes'][text]['sets'][cell])}", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
