"""How good are Atelier's images? KID and FD against the pytorch/examples DCGAN recipe, same minutes, same CPU.

    python -m bench.quality [--minutes 2] [--seeds 3] [--sets glyphs,landscapes,textiles] [--resolutions 32,64]
    python -m bench.quality --quick        # a tiny smoke run (seconds of training, a few dozen images)

For every set (bench.quality_sets: built here from installed fonts and procedural code, cached under var/),
resolution and seed, it trains (a) bench.reference_dcgan and (b) Atelier's default through its own CLI,
`python -m generation.gan.train --data DIR --out DIR --minutes M --resolution R --seed S` (plus --conditional
on labelled sets), for the same minutes, one after the other, alternating which goes first, each in a fresh
process with the same thread count. Then it draws `--samples` images of each (Atelier through its exported
model.onnx and onnxruntime, the reference through its torch G) and scores them against the set in the
features of bench.features' probe network (trained here on other images, never on these; `--probe`
sets its training, and `python -m bench.quality_rescore RUN...` scores finished runs again in other probes):

- KID: mean unbiased MMD^2 with the cubic kernel over random subsets, FD: Fréchet distance of the feature
  Gaussians (both from generation.gan.metrics, lower is better); `*_ratio` = atelier / reference, of the
  medians over seeds (goal: kid_ratio <= 0.5 on every set).
- atelier_diversity_ratio: mean pairwise feature distance of Atelier's samples / that of the data (goal
  within 20 % of 1.0); `details` adds the within-class ratio on labelled sets, the class accuracy (the share
  of samples nearest the reals' mean of the class they were asked for; `data_class_accuracy` is the reals'
  own held-out figure, the ceiling), the reference's ratio, the steps and images each side trained on, and
  every seed's numbers.

Entries are named `set@resolution`. Intermediate results go to var/quality/latest.json after every run.
Prints a one-line summary, then one JSON object last.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bench.features import FeatureSpace, load_feature_space
from bench.quality_sets import BENCH_SETS, load_folder, materialise
from bench.reference_dcgan import Generator, sample
from generation.gan.export import read_model_metadata
from generation.gan.metrics import (
    class_fidelity,
    diversity_report,
    feature_statistics,
    frechet_distance,
    kernel_distance,
)
from generation.gan.noise import latents_for_seeds
from generation.gan.onnx_runner import make_session, run_generator

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "quality"
ATELIER_RUN_KEYS = (
    "atelier_kid",
    "atelier_kid_std",
    "atelier_fd",
    "atelier_diversity_ratio",
    "atelier_intra_class_diversity_ratio",
    "atelier_min_class_diversity_ratio",
    "atelier_class_accuracy",
    "data_class_accuracy",
    "atelier_steps",
    "atelier_images_seen",
    "atelier_arch",
    "atelier_batch",
    "atelier_wall_seconds",
)
ENTRY_KEYS = (
    "reference_kid",
    "atelier_kid",
    "kid_ratio",
    "reference_fd",
    "atelier_fd",
    "fd_ratio",
    "atelier_diversity_ratio",
)


@dataclass(frozen=True)
class Plan:
    minutes: float | None
    steps: int | None  # --quick trains a fixed number of steps instead of minutes (a budget needs >= 200 steps)
    seeds: int
    sets: tuple[str, ...]
    resolutions: tuple[int, ...]
    set_size: int
    samples: int
    probe_size: int
    probe_epochs: int
    threads: int
    schedule: str = "concurrent"
    atelier_arch: str | None = None  # None: whatever Atelier's planner picks (the product's default)
    first_seed: int = 0  # seeds first_seed .. first_seed + seeds - 1 (more seeds of an earlier run)
    atelier_set: tuple[str, ...] = ()  # FIELD=VALUE overrides passed to Atelier's CLI as --set (a variant)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="training minutes per run, each side")
    parser.add_argument("--seeds", type=int, default=3, help="how many seeds (from --first-seed); medians are reported")
    parser.add_argument("--first-seed", type=int, default=0, help="start the seeds here (default 0)")
    parser.add_argument("--sets", default=",".join(BENCH_SETS), help=f"comma list of {', '.join(BENCH_SETS)}")
    parser.add_argument("--resolutions", default="32,64", help="comma list of 32, 64")
    parser.add_argument("--set-size", type=int, default=400, help="images per set")
    parser.add_argument("--samples", type=int, default=1000, help="samples scored per model")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads per side (default: half the cores when concurrent, else all)",
    )
    parser.add_argument(
        "--schedule",
        choices=("concurrent", "sequential"),
        default="concurrent",
        help="train both recipes at once (default: same load for both) or one after the other",
    )
    parser.add_argument(
        "--atelier-arch",
        choices=("dcgan", "fastgan"),
        default=None,
        help="force Atelier's architecture (default: the planner's choice)",
    )
    parser.add_argument(
        "--atelier-set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="train a variant of Atelier's default: a config field passed to its CLI as --set (repeatable)",
    )
    parser.add_argument(
        "--probe",
        default=DEFAULT_PROBE,
        metavar="COUNTxEPOCHS",
        help=f"the feature network's training: probe-set images and epochs (default {DEFAULT_PROBE}; "
        "1600x4 was the yardstick until 2026-12-07)",
    )
    parser.add_argument("--quick", action="store_true", help="tiny smoke configuration (overrides the above)")
    parser.add_argument("--out", type=Path, default=VAR, help="cache and run folder (default var/quality)")
    return parser


# 6400 probe images, 16 epochs: ~94 % held out on its 16 classes, against ~49 % for the 1600x4 network scored
# in before, which ranked the reference's high-frequency noise nearer landscapes than landscapes (DESIGN.md)
DEFAULT_PROBE = "6400x16"


def probe_from_text(text: str) -> tuple[int, int]:
    """'COUNTxEPOCHS' -> (count, epochs); SystemExit naming --probe otherwise."""
    count, _, epochs = text.lower().partition("x")
    if not (count.isdigit() and epochs.isdigit()) or int(count) < 16 or int(epochs) < 1:
        raise SystemExit(f"--probe: COUNTxEPOCHS with COUNT >= 16 and EPOCHS >= 1, got {text!r}")
    return int(count), int(epochs)


def plan_from_args(args: argparse.Namespace) -> Plan:
    threads = args.threads or (
        max(1, (os.cpu_count() or 2) // 2) if args.schedule == "concurrent" else torch.get_num_threads()
    )
    sets = tuple(s for s in args.sets.split(",") if s)
    unknown = [s for s in sets if s not in BENCH_SETS]
    if unknown or not sets:
        raise SystemExit(f"--sets: unknown {unknown}; choose from {', '.join(BENCH_SETS)}")
    resolutions = tuple(int(r) for r in args.resolutions.split(",") if r)
    if not resolutions or any(r not in (32, 64) for r in resolutions):
        raise SystemExit("--resolutions: 32 and/or 64")
    if args.quick:
        return Plan(
            minutes=None,
            steps=3,
            seeds=1,
            sets=sets,
            resolutions=resolutions[:1],
            set_size=40,
            samples=64,
            probe_size=160,
            probe_epochs=1,
            threads=threads,
            schedule=args.schedule,
            atelier_arch=args.atelier_arch,
            atelier_set=tuple(args.atelier_set),
        )
    if args.minutes <= 0 or args.seeds < 1 or args.samples < 2 or args.first_seed < 0:
        raise SystemExit("--minutes must be positive, --seeds at least 1, --samples at least 2, --first-seed >= 0")
    probe_size, probe_epochs = probe_from_text(args.probe)
    return Plan(
        minutes=args.minutes,
        steps=None,
        seeds=args.seeds,
        first_seed=args.first_seed,
        sets=sets,
        resolutions=resolutions,
        set_size=args.set_size,
        samples=args.samples,
        probe_size=probe_size,
        probe_epochs=probe_epochs,
        threads=threads,
        schedule=args.schedule,
        atelier_arch=args.atelier_arch,
        atelier_set=tuple(args.atelier_set),
    )


# ---- the two recipes -----------------------------------------------------------------------------------------


def _env(threads: int) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}


def _length(plan: Plan) -> list[str]:
    return ["--minutes", str(plan.minutes)] if plan.steps is None else ["--steps", str(plan.steps)]


@dataclass
class Training:
    """A recipe's training process and how to collect what it made."""

    side: str
    process: subprocess.Popen
    out: Path
    started: float
    log: Path


def start_reference(*, data: Path, out: Path, plan: Plan, resolution: int, seed: int) -> Training:
    out.mkdir(parents=True, exist_ok=True)
    log = out / "reference.log"
    command = [
        sys.executable,
        "-m",
        "bench.reference_dcgan",
        "--data",
        str(data),
        "--out",
        str(out / "reference.pt"),
        *_length(plan),
        "--resolution",
        str(resolution),
        "--seed",
        str(seed),
    ]
    return Training("reference", _spawn(command, plan=plan, log=log), out, time.monotonic(), log)


def start_atelier(*, data: Path, out: Path, plan: Plan, resolution: int, seed: int, conditional: bool) -> Training:
    out.mkdir(parents=True, exist_ok=True)
    log = out / "atelier.log"
    command = [
        sys.executable,
        "-m",
        "generation.gan.train",
        "--data",
        str(data),
        "--out",
        str(out / "atelier"),
        *_length(plan),
        "--resolution",
        str(resolution),
        "--seed",
        str(seed),
        "--device",
        "cpu",
    ]
    if conditional:
        command.append("--conditional")
    if plan.atelier_arch:
        command += ["--arch", plan.atelier_arch]
    for item in plan.atelier_set:
        command += ["--set", item]
    return Training("atelier", _spawn(command, plan=plan, log=log), out, time.monotonic(), log)


def _spawn(command: list[str], *, plan: Plan, log: Path) -> subprocess.Popen:
    with open(log, "w") as stream:
        return subprocess.Popen(command, cwd=ROOT, env=_env(plan.threads), stdout=stream, stderr=subprocess.STDOUT)


def wait(training: Training) -> float:
    """Waits for the process; its wall seconds. RuntimeError with the log's tail if it failed."""
    code = training.process.wait()
    if code != 0:
        raise RuntimeError(f"{training.side} training exited {code}: {training.log.read_text()[-800:]}")
    return round(time.monotonic() - training.started, 1)


def load_reference(path: Path) -> tuple[Generator, dict]:
    """The reference's trained G from its reference.pt, and what the file records (steps, images, seconds)."""
    saved = torch.load(path, weights_only=True)
    net = Generator(saved["resolution"])
    net.load_state_dict(saved["generator"])
    return net, saved


def reference_samples(net: Generator, *, count: int, seed: int) -> np.ndarray:
    """The images the reference is scored on for this run seed (a noise seed apart from the training's)."""
    return sample(net, count=count, seed=10_000 + seed)


def finish_reference(training: Training) -> dict:
    wall = wait(training)
    net, saved = load_reference(training.out / "reference.pt")
    return {
        "net": net,
        "steps": saved["steps"],
        "images_seen": saved["images_seen"],
        "train_seconds": round(saved["seconds"], 1),
        "wall_seconds": wall,
    }


def finish_atelier(training: Training) -> dict:
    wall = wait(training)
    model = training.out / "atelier" / "model.onnx"
    metadata = read_model_metadata(model)
    config = metadata["config"]
    return {
        "model": model,
        "metadata": metadata,
        "steps": metadata["step"],
        "images_seen": metadata["step"] * int(config["batch_size"]),
        "arch": config.get("arch"),
        "batch_size": config["batch_size"],
        "wall_seconds": wall,
    }


def atelier_samples(model: Path, metadata: dict, count: int) -> tuple[np.ndarray, np.ndarray | None]:
    """count images (seed i, class i mod K for conditional models) and their class names' indices."""
    seeds = list(range(count))
    labels = np.array(seeds, dtype=np.int64) % metadata["num_classes"] if metadata["conditional"] else None
    return run_generator(make_session(model), latents_for_seeds(seeds, metadata["latent_dim"]), labels), labels


# ---- scoring -------------------------------------------------------------------------------------------------


def score(*, real: np.ndarray, fake: np.ndarray, kid_subsets: int = 50) -> dict[str, float]:
    """KID and FD between feature sets [N, D]."""
    kid, kid_std = kernel_distance(real, fake, num_subsets=kid_subsets)
    fd = frechet_distance(*feature_statistics(real), *feature_statistics(fake))
    return {"kid": kid, "kid_std": kid_std, "fd": fd}


def run_one(
    *, set_name: str, resolution: int, seed: int, plan: Plan, features: FeatureSpace, run_root: Path, cache: Path
) -> dict:
    data = materialise(name=set_name, count=plan.set_size, seed=0, root=cache / "sets", resolution=resolution)
    real_images, real_labels, class_names = load_folder(data)
    out = run_root / f"{set_name}@{resolution}" / f"seed{seed}"
    conditional = real_labels is not None
    sides = ["reference", "atelier"] if seed % 2 == 0 else ["atelier", "reference"]
    trained: dict[str, dict] = {}
    error = None

    def start(side: str) -> Training:
        if side == "reference":
            return start_reference(data=data, out=out, plan=plan, resolution=resolution, seed=seed)
        return start_atelier(data=data, out=out, plan=plan, resolution=resolution, seed=seed, conditional=conditional)

    def finish(training: Training) -> None:
        nonlocal error
        if training.side == "reference":
            trained["reference"] = finish_reference(training)
            return
        try:
            trained["atelier"] = finish_atelier(training)
        except RuntimeError as failure:  # e.g. the planner refusing a budget too small for this machine
            error = str(failure)

    if plan.schedule == "concurrent":  # both see the same machine load for the same minutes
        running = [start(side) for side in sides]
        try:
            for training in running:
                finish(training)
        finally:
            for training in running:
                if training.process.poll() is None:
                    training.process.kill()
    else:
        for side in sides:
            finish(start(side))
    reference_images = reference_samples(trained["reference"]["net"], count=plan.samples, seed=seed)
    real_f, ref_f = features(real_images), features(reference_images)
    reference = score(real=real_f, fake=ref_f)
    run = {
        "seed": seed,
        "order": sides,
        "schedule": plan.schedule,
        "conditional": conditional,
        "atelier_error": error,
        "reference_kid": reference["kid"],
        "reference_kid_std": reference["kid_std"],
        "reference_fd": reference["fd"],
        "reference_diversity_ratio": diversity_report(real_features=real_f, fake_features=ref_f)["overall_ratio"],
        "reference_steps": trained["reference"]["steps"],
        "reference_images_seen": trained["reference"]["images_seen"],
        "reference_wall_seconds": trained["reference"]["wall_seconds"],
        **dict.fromkeys(ATELIER_RUN_KEYS),
    }
    if error is not None:
        _save_grid(out / "samples.png", real_images, reference_images)
        return run
    atelier_run = trained["atelier"]
    atelier_images, atelier_labels = atelier_samples(atelier_run["model"], atelier_run["metadata"], plan.samples)
    if atelier_labels is not None:  # Atelier's class index -> this set's class index
        names = atelier_run["metadata"]["class_names"]
        atelier_labels = np.array([class_names.index(names[i]) for i in atelier_labels])
    ate_f = features(atelier_images)
    atelier = score(real=real_f, fake=ate_f)
    atelier_div = diversity_report(
        real_features=real_f, fake_features=ate_f, real_labels=real_labels, fake_labels=atelier_labels
    )
    _save_grid(out / "samples.png", real_images, reference_images, atelier_images)
    fidelity = None
    if atelier_labels is not None:
        fidelity = class_fidelity(
            real_features=real_f, real_labels=real_labels, fake_features=ate_f, fake_labels=atelier_labels
        )
    run.update(
        {
            "atelier_kid": atelier["kid"],
            "atelier_kid_std": atelier["kid_std"],
            "atelier_fd": atelier["fd"],
            "atelier_diversity_ratio": atelier_div["overall_ratio"],
            "atelier_intra_class_diversity_ratio": atelier_div["intra_class_ratio"],
            "atelier_min_class_diversity_ratio": atelier_div["min_class_ratio"],
            "atelier_class_accuracy": None if fidelity is None else fidelity["samples"],
            "data_class_accuracy": None if fidelity is None else fidelity["data"],
            "atelier_steps": atelier_run["steps"],
            "atelier_images_seen": atelier_run["images_seen"],
            "atelier_arch": atelier_run["arch"],
            "atelier_batch": atelier_run["batch_size"],
            "atelier_wall_seconds": atelier_run["wall_seconds"],
        }
    )
    return run


def _save_grid(path: Path, *rows: np.ndarray, per_row: int = 16) -> None:
    from PIL import Image

    tiles = [np.concatenate(list(images[:per_row]), axis=1) for images in rows if len(images) >= per_row]
    if tiles:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate(tiles, axis=0)).save(path)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return float(statistics.median(values)) if values else None


def summarise(runs: dict[str, list[dict]]) -> dict[str, dict]:
    """Per entry: medians over seeds and the ratios of the medians (the figure's seven keys)."""
    entries = {}
    for name, seeds in runs.items():
        m = {
            key: _median([run[key] for run in seeds])
            for key in ("reference_kid", "atelier_kid", "reference_fd", "atelier_fd", "atelier_diversity_ratio")
        }
        entries[name] = {
            "reference_kid": m["reference_kid"],
            "atelier_kid": m["atelier_kid"],
            "kid_ratio": _ratio(m["atelier_kid"], m["reference_kid"]),
            "reference_fd": m["reference_fd"],
            "atelier_fd": m["atelier_fd"],
            "fd_ratio": _ratio(m["atelier_fd"], m["reference_fd"]),
            "atelier_diversity_ratio": m["atelier_diversity_ratio"],
        }
    return entries


def details(runs: dict[str, list[dict]]) -> dict[str, dict]:
    keys = (
        "atelier_intra_class_diversity_ratio",
        "atelier_min_class_diversity_ratio",
        "atelier_class_accuracy",
        "data_class_accuracy",
        "reference_diversity_ratio",
        "reference_steps",
        "atelier_steps",
        "reference_images_seen",
        "atelier_images_seen",
    )
    return {
        name: {
            **{key: _median([run[key] for run in seeds]) for key in keys},
            "atelier_errors": sorted({run["atelier_error"] for run in seeds if run.get("atelier_error")}),
            "per_seed": seeds,
        }
        for name, seeds in runs.items()
    }


def result_object(
    *, plan: Plan, runs: dict[str, list[dict]], features: FeatureSpace, started: str, complete: bool
) -> dict:
    return {
        "bench": "gan_quality",
        "sets": summarise(runs),
        "minutes": plan.minutes,
        "steps": plan.steps,
        "seeds": plan.seeds,
        "first_seed": plan.first_seed,
        "resolutions": list(plan.resolutions),
        "samples": plan.samples,
        "set_size": plan.set_size,
        "threads": plan.threads,
        "schedule": plan.schedule,
        "atelier_arch": plan.atelier_arch or "default",
        "atelier_set": list(plan.atelier_set),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "complete": complete,
        "started": started,
        "feature_network": features.info,
        "details": details(runs),
    }


def _round(value):
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def write_latest(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(_round(result), indent=2))
    temporary.replace(path)


def one_line(result: dict) -> str:
    parts = []
    for name, entry in result["sets"].items():
        kid, fd, div = entry["kid_ratio"], entry["fd_ratio"], entry["atelier_diversity_ratio"]
        refused = " (Atelier refused the budget)" if result["details"][name]["atelier_errors"] else ""
        parts.append(
            f"{name} KID x{kid:.2f} FD x{fd:.2f} div {div:.2f}"
            if None not in (kid, fd, div)
            else f"{name} n/a{refused}"
        )
    length = f"{result['minutes']:g} min" if result["steps"] is None else f"{result['steps']} steps"
    return (
        f"GAN quality, Atelier vs pytorch/examples DCGAN, {length} each, median of "
        f"{result['seeds']} seed(s): " + "; ".join(parts)
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so subprocess.run stops the training child instead of orphaning it


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    plan = plan_from_args(args)
    torch.set_num_threads(plan.threads)
    started = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
    out = args.out
    run_root = out / "runs" / (started + ("-quick" if args.quick else ""))
    features = load_feature_space(root=out, count=plan.probe_size, epochs=plan.probe_epochs)
    print(f"feature network: {features.info}", file=sys.stderr)
    latest = out / ("latest-quick.json" if args.quick else "latest.json")  # a smoke run never hides the figure
    runs: dict[str, list[dict]] = {}
    # seeds outermost, so a cut-short run still covers every set and resolution
    for seed in range(plan.first_seed, plan.first_seed + plan.seeds):
        for resolution in plan.resolutions:
            for set_name in plan.sets:
                name = f"{set_name}@{resolution}"
                print(f"[{name} seed {seed}] training both ({' '.join(_length(plan))}) ...", file=sys.stderr)
                run = run_one(
                    set_name=set_name,
                    resolution=resolution,
                    seed=seed,
                    plan=plan,
                    features=features,
                    run_root=run_root,
                    cache=out,
                )
                runs.setdefault(name, []).append(run)
                print(f"[{name} seed {seed}] {json.dumps(_round(run))}", file=sys.stderr)
                write_latest(
                    result_object(plan=plan, runs=runs, features=features, started=started, complete=False), latest
                )
    result = _round(result_object(plan=plan, runs=runs, features=features, started=started, complete=True))
    write_latest(result, latest)
    print(one_line(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
