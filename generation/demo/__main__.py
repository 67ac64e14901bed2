"""python -m generation.demo --rebuild | --check  (see generation/demo/__init__.py)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generation.demo import (
    DATASET_RECIPE,
    DEMO_DIR,
    METADATA_FILE,
    MODEL_FILE,
    SAMPLES_FILE,
    TRAIN_FLAGS,
    TRAIN_THREADS,
    DemoModelError,
    file_sha256,
    load_demo_model,
)
from generation.gan.export import read_model_metadata
from generation.gan.procedural import write_landscapes

ROOT = DEMO_DIR.parent.parent


def train_command(*, data: Path, out: Path, steps: int | None = None, config: Path | None = None) -> list[str]:
    """The train CLI's command: planned from TRAIN_FLAGS, or, with `config`, exactly that config (no planning,
    so a rebuild does not drift when the planner's defaults change)."""
    if config is not None:
        flags = {"--config": str(config), "--device": TRAIN_FLAGS["--device"]}
    else:
        flags = dict(TRAIN_FLAGS)
        if steps is not None:
            flags["--steps"] = str(steps)
    return [
        "python",
        "-m",
        "generation.gan.train",
        "--data",
        str(data),
        "--out",
        str(out),
        *[part for flag, value in flags.items() for part in (flag, value)],
    ]


def shipped_config(*, steps: int | None, into: Path) -> Path | None:
    """The shipped model's full config (steps overridden) as a file for --config; None before any model ships."""
    try:
        config = dict(load_demo_model().metadata["config"])
    except DemoModelError:
        return None
    if steps is not None:
        config["steps"] = steps
    into.write_text(json.dumps(config, indent=2) + "\n")
    return into


def git_commit() -> str:
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        commit = subprocess.run(
            [git, "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        code = ["generation", "core", ":!generation/demo"]  # the demo's own outputs do not count
        dirty = subprocess.run(
            [git, "status", "--porcelain", "--", *code], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+uncommitted" if dirty else "")


def rebuild(*, out_dir: Path, steps: int | None = None) -> dict:
    """Draw the dataset, train with the project's CLI, write model.onnx, model.json and samples.png."""
    import onnxruntime
    import torch

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        data = write_landscapes(
            out_dir=Path(scratch) / "landscapes",
            count=DATASET_RECIPE["count"],
            seed=DATASET_RECIPE["seed"],
            side=DATASET_RECIPE["side"],
        )
        run_dir = Path(scratch) / "run"
        config = shipped_config(steps=steps, into=Path(scratch) / "config.json")
        command = train_command(data=data, out=run_dir, steps=steps, config=config)
        env = {**os.environ, "OMP_NUM_THREADS": str(TRAIN_THREADS), "MKL_NUM_THREADS": str(TRAIN_THREADS)}
        started = time.monotonic()
        trained = subprocess.run(
            [sys.executable, *command[1:]], cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True
        ).stdout
        print(trained, end="")
        parity = re.search(r"parity max \|diff\| ([0-9.e+-]+)", trained)
        seconds = time.monotonic() - started
        model = out_dir / MODEL_FILE.name
        shutil.copyfile(run_dir / "model.onnx", model)
        if out_dir != DEMO_DIR:  # a grid to look at; not shipped (the model draws it again in seconds)
            shutil.copyfile(run_dir / "samples.png", out_dir / SAMPLES_FILE.name)
        exported = read_model_metadata(model)
    metadata = {
        "about": "Atelier's demo model: trained by this project's own trainer; rebuild with "
        "`python -m generation.demo --rebuild`",
        "dataset": {
            **DATASET_RECIPE,
            "drawn_by": "generation.gan.procedural.write_landscapes",
            "dataset_hash": exported["dataset_hash"],
        },
        "command": " ".join(
            train_command(
                data=Path("<dataset>"),
                out=Path("<run>"),
                steps=steps,
                config=Path("<this file's config>") if config else None,
            )
        ),
        "threads": TRAIN_THREADS,
        "config": exported["config"],
        "seed": exported["config"]["seed"],
        "step": exported["step"],
        "train_seconds": round(seconds, 1),
        "git_commit": git_commit(),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
        "parity_max_abs_diff": float(parity.group(1)) if parity else None,
        "onnx_sha256": file_sha256(model),
        "onnx_size": model.stat().st_size,
    }
    (out_dir / METADATA_FILE.name).write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generation.demo", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--rebuild", action="store_true", help="train the demo model again and write its files")
    action.add_argument("--check", action="store_true", help="verify the shipped model against model.json")
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help="where --rebuild writes (default: the package)")
    parser.add_argument("--steps", type=int, default=None, help="override the step count (a quick trial run)")
    args = parser.parse_args(argv)
    if args.check:
        try:
            demo = load_demo_model()
        except DemoModelError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(
            f"ok: {demo.path} sha256 {demo.sha256} ({demo.metadata['config']['arch']}, "
            f"{demo.metadata['config']['resolution']}px, step {demo.metadata['step']})"
        )
        return 0
    metadata = rebuild(out_dir=args.out, steps=args.steps)
    print(json.dumps({key: metadata[key] for key in ("onnx_sha256", "onnx_size", "step", "train_seconds")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
