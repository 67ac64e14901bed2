"""Train a GAN on an image folder, then export it: `python -m generation.gan.train --data DIR --out DIR`.

OUT receives dataset.pt (the preprocessed images), checkpoints/latest.pt, samples/ and loss_curve.png while
training, then model.onnx (EMA generator, parity-checked), samples.png (its fixed-seed grid) and metrics.json
(diversity of the samples against the data) at the end. Ctrl-C or SIGTERM stops at the next step with a
checkpoint; `--resume` continues it exactly.

Several processes: `torchrun --nproc-per-node N -m generation.gan.train ...` trains one run with
DistributedDataParallel (gloo on the CPU, NCCL on CUDA; generation.gan.distributed): the batch is the global
one, split over the ranks; rank 0 plans, prints, writes checkpoints and samples and exports; every rank
resumes from the same checkpoint. A rank that dies ends the run (its peers time out in their next collective,
torchrun stops the rest); `--resume` continues it from the last checkpoint.

For the worker pool (generation.services.training): `--config` takes an exact config (JSON, no planning),
`--dataset-file` a prepared tensor file, `--control DIR` makes rank 0 write progress.json and result.json
there and obey the files `stop` and `pause` (at the next checkpoint boundary), and `--no-export` ends after
training.

What to train comes from a time budget: `--preset` (quick, standard, best) and/or `--minutes`; the planner
(generation.gan.budget) times the real networks on this device, picks architecture, resolution, widths, batch
and steps, and prints its estimate before training starts. Flags given explicitly override the plan.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch.distributed as dist
from tqdm import tqdm

from generation.gan.budget import PRESET_RESOLUTION, PRESETS, device_kind, plan_training
from generation.gan.config import ARCHS, RESOLUTIONS, GANConfig
from generation.gan.data import DatasetError, PreparedDataset, load_prepared_dataset, prepare_dataset
from generation.gan.distributed import World, close_world, init_world, launched_by_torchrun
from generation.gan.export import ParityError, export_generator
from generation.gan.files import atomic_write
from generation.gan.metrics import diversity_metrics
from generation.gan.noise import latents_for_seeds
from generation.gan.onnx_runner import make_session, run_generator
from generation.gan.periodicity import dataset_periodicity
from generation.gan.trainer import Progress, Trainer, TrainResult, default_device, load_checkpoint
from generation.gan.visuals import image_grid, save_png

DEFAULT_AUGMENT = GANConfig().augment_policy
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class CliError(Exception):
    """A one-line reason to exit non-zero."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m generation.gan.train", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="image folder (class subfolders = labels)")
    source.add_argument("--dataset-file", type=Path, help="a prepared dataset tensor file (generation.gan.data)")
    parser.add_argument("--out", type=Path, required=True, help="run folder: checkpoints, samples, model.onnx")
    parser.add_argument(
        "--preset",
        choices=PRESETS,
        default="standard",
        help="what the budget buys: quick, standard (default) or best; on a CPU 3, 10 or 30 minutes at "
        "32, 64 or 128 px",
    )
    parser.add_argument(
        "--arch",
        choices=ARCHS,
        default=None,
        help="network family (default: the plan's: dcgan on a CPU at <= 64 px, else fastgan)",
    )
    parser.add_argument(
        "--resolution",
        type=int,
        default=None,
        help=f"one of {', '.join(map(str, RESOLUTIONS))} (default: the preset's)",
    )
    parser.add_argument("--batch-size", type=int, default=None, help="default: the plan's")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, default=None, help="train exactly this many steps (no time budget)")
    length.add_argument("--minutes", type=float, default=None, help="time budget (default: the preset's)")
    parser.add_argument("--augment", choices=["diffaugment", "none"], default=None, help="default diffaugment")
    parser.add_argument("--loss", choices=["bce", "hinge"], default=None, help="default bce")
    parser.add_argument("--conditional", action="store_true", default=None, help="class-conditional model")
    parser.add_argument("--seed", type=int, default=None, help="default 0")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="any other GANConfig field over the plan, e.g. mbstd_group=4 (VALUE read as JSON, else as a "
        "string); repeatable; an explicit flag wins over it; resolution, conditional and the length have "
        "their own flags",
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    parser.add_argument("--dry-run", action="store_true", help="check data and config, time one step, write nothing")
    parser.add_argument("--config", type=Path, default=None, help="train exactly this config (JSON), no planning")
    parser.add_argument("--control", type=Path, default=None, help="progress/result files and stop/pause requests")
    parser.add_argument("--no-export", action="store_true", help="end after training (the caller exports)")
    return parser


# fields the data or the length flags decide: --set refuses them (other flags win over --set)
REFUSED_FIELDS = {
    "resolution": "--resolution",
    "conditional": "--conditional",
    "num_classes": "--conditional (the data's classes)",
    "steps": "--minutes or --steps",
    "budget_minutes": "--minutes or --steps",
}


def set_overrides(items: list[str]) -> dict[str, object]:
    """`--set FIELD=VALUE` items as config overrides; CliError names a malformed, unknown or refused field."""
    known = set(GANConfig.__dataclass_fields__)
    overrides: dict[str, object] = {}
    for item in items:
        name, equals, raw = item.partition("=")
        name = name.strip()
        if not equals or not name:
            raise CliError(f"--set {item!r}: expected FIELD=VALUE")
        if name not in known:
            raise CliError(f"--set {name}: not a config field")
        if name in REFUSED_FIELDS:
            raise CliError(f"--set {name}: use {REFUSED_FIELDS[name]}")
        try:
            overrides[name] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[name] = raw
    return overrides


def default_resolution(args: argparse.Namespace, device: str) -> int:
    return args.resolution or PRESET_RESOLUTION[device_kind(device)][args.preset]


def config_from_args(args: argparse.Namespace, dataset: PreparedDataset, *, device: str = "cpu") -> GANConfig:
    """The planned config for the flags (see plan_from_args)."""
    return plan_from_args(args, dataset, device=device)[0]


def plan_from_args(args: argparse.Namespace, dataset: PreparedDataset, *, device: str = "cpu") -> tuple[GANConfig, str]:
    """(config, the estimate to show): the plan for the preset and budget, flags on top; with --steps, that
    many steps and no time limit."""
    overrides: dict[str, object] = set_overrides(getattr(args, "set", None) or [])
    if args.resolution is not None:
        overrides["resolution"] = args.resolution
    if args.arch is not None:
        overrides["arch"] = args.arch
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    if args.augment is not None:
        overrides["augment_policy"] = DEFAULT_AUGMENT if args.augment == "diffaugment" else ""
    if args.loss is not None:
        overrides["loss"] = args.loss
    if args.conditional:
        overrides.update(conditional=True, num_classes=dataset.num_classes)
    if args.seed is not None:
        overrides["seed"] = args.seed
    periodicity = dataset_periodicity(dataset.images)
    if args.steps is None:
        plan = plan_training(
            preset=args.preset,
            minutes=args.minutes,
            device=device,
            dataset_size=dataset.num_images,
            num_classes=dataset.num_classes,
            overrides=overrides,
            periodicity=periodicity,
        )
        return plan.config, plan.summary
    # exact steps: the plan's shape and recipe, the user's step count, no clock; say what it will cost
    plan = plan_training(
        preset=args.preset,
        minutes=GANConfig.BOUNDS["budget_minutes"][1],
        device=device,
        dataset_size=dataset.num_images,
        num_classes=dataset.num_classes,
        overrides=overrides,
        periodicity=periodicity,
    )
    steps = args.steps
    config = GANConfig.from_overrides(
        plan.config.to_dict(),
        {
            "steps": steps,
            "budget_minutes": 0.0,
            "checkpoint_every": max(1, min(500, steps // 10)),
            "sample_every": max(1, min(500, steps // 10)),
            "log_every": max(1, min(10, steps)),
            "cond_transition_steps": steps // 3 if plan.config.conditional else 0,
        },
    )
    minutes = steps * config.batch_size / plan.images_per_s / 60
    summary = (
        f"about {plan.images_per_s:.0f} images/s here, {steps:,} steps take about {minutes:.1f} minutes "
        f"({config.arch} at {config.resolution}px, batch {config.batch_size})"
    )
    return config, summary


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (CliError, DatasetError, ValueError, ParityError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        close_world()


def _load_data(args: argparse.Namespace, *, resolution: int, out_path: Path | None) -> PreparedDataset:
    if args.dataset_file is not None:
        dataset = load_prepared_dataset(args.dataset_file)
        if dataset.resolution != resolution:
            raise CliError(f"{args.dataset_file} is at {dataset.resolution}px, the run trains at {resolution}px")
        return dataset
    return prepare_dataset(image_dir=args.data, resolution=resolution, out_path=out_path)


def _shared_config(config: GANConfig | None, estimate: str | None, world: World | None) -> tuple[GANConfig, str | None]:
    """Rank 0's plan on every rank: each rank's timed probe could otherwise pick another shape."""
    if world is None:
        return config, estimate
    box = [(config.to_dict(), estimate) if world.is_main else None]
    dist.broadcast_object_list(box, src=0)
    planned, shared_estimate = box[0]
    return GANConfig.from_dict(planned), shared_estimate


def run(args: argparse.Namespace) -> int:
    if args.minutes is not None and args.minutes <= 0:
        raise CliError("--minutes must be positive")
    if args.resolution is not None and args.resolution not in RESOLUTIONS:
        raise CliError(f"--resolution must be one of {', '.join(map(str, RESOLUTIONS))}")
    checkpoint = args.out / "checkpoints" / "latest.pt"
    if args.resume and not checkpoint.is_file():
        raise CliError(f"nothing to resume: {checkpoint} does not exist")
    if not args.resume and not args.dry_run and checkpoint.exists():
        raise CliError(f"{args.out} already holds a run; pass --resume to continue it or choose another --out")
    if args.set and (args.config is not None or args.resume):
        raise CliError("--set changes a new plan: not with --config or --resume")
    set_overrides(args.set)  # malformed items fail here, before any data is read
    world = None
    if launched_by_torchrun() and not args.dry_run:
        world, chosen = init_world(device=args.device)  # after the checks above: no rank has written yet
        device = str(chosen)
    else:
        device = args.device or str(default_device())
    main_rank = world is None or world.is_main
    explicit = GANConfig.from_dict(json.loads(args.config.read_text())) if args.config is not None else None

    if args.resume:
        state_config = GANConfig.from_dict(load_checkpoint(checkpoint)["config"])
        dataset = _load_data(args, resolution=state_config.resolution, out_path=None)
        changes: dict[str, object] = {}
        if args.steps is not None:
            changes.update(steps=args.steps, budget_minutes=0.0)
        elif args.minutes is not None:
            # a further budget on top of the training already done
            changes["steps"] = int(GANConfig.BOUNDS["steps"][1])
            changes["budget_minutes"] = (
                float(load_checkpoint(checkpoint).get("elapsed_seconds", 0.0)) / 60 + args.minutes
            )
        if explicit is not None:
            saved = state_config.to_dict()
            changes = {name: value for name, value in explicit.to_dict().items() if saved.get(name) != value}
        trainer = Trainer.resume(
            checkpoint_path=checkpoint,
            dataset=dataset,
            device=device,
            out_dir=args.out,
            config_changes=changes,
            world=world,
        )
        estimate = None
    else:
        resolution = explicit.resolution if explicit is not None else default_resolution(args, device)
        dataset = _load_data(
            args,
            resolution=resolution,
            out_path=None if args.dry_run or not main_rank else args.out / "dataset.pt",
        )
        if explicit is not None:
            config, estimate = explicit, None
        elif main_rank:
            config, estimate = plan_from_args(args, dataset, device=device)
        else:  # rank 0 plans (its probe alone on the cores) and sends the plan
            config, estimate = None, None
        config, estimate = _shared_config(config, estimate, world)
        trainer = Trainer(
            config=config, dataset=dataset, device=device, out_dir=None if args.dry_run else args.out, world=world
        )
    config = trainer.config
    summary = (
        f"{config.arch}, {dataset.num_images} images in {dataset.num_classes} class(es) at {config.resolution}px, "
        f"{'conditional' if config.conditional else 'unconditional'}, loss {config.loss}, "
        f"batch {config.batch_size}, augment {config.augment_policy or 'none'}{' (adaptive)' if config.ada else ''}, "
        f"{f'{config.periodic_channels} periodic maps, ' if config.periodic_channels else ''}seed {config.seed}, "
        f"on {device}{'' if world is None else f' x {world.size} processes'}"
    )
    if estimate is not None and main_rank:
        print(f"estimate: {estimate}", file=sys.stderr)
    if args.dry_run:
        return dry_run(trainer, args, summary)

    if main_rank:
        print(f"training: {summary}", file=sys.stderr)
    control = _Control(args.control) if args.control is not None and main_rank else None
    with _stop_on_signals() as stop_requested:
        result = _train_with_progress_bar(trainer, stop_requested=stop_requested, control=control, quiet=not main_rank)
    if control is not None:
        control.write("result.json", {"reason": result.reason, "step": result.step, "total_steps": result.total_steps})
    close_world()
    if result.reason in ("cancelled", "paused"):
        if main_rank:
            print(
                f"stopped at step {result.step}; checkpoint {result.checkpoint_path}; rerun with --resume",
                file=sys.stderr,
            )
        return 130
    if args.no_export or not main_rank:
        return 0
    model_path = args.out / "model.onnx"
    trainer.recalibrate_ema()  # done by the last checkpoint already; a no-op then
    exported = export_generator(
        generator=trainer.generator_ema,
        config=config,
        out_path=model_path,
        step=trainer.step,
        dataset_hash=trainer.dataset_hash,
        class_names=trainer.class_names,
    )
    samples_path = write_sample_grid(model_path, config=config, out_path=args.out / "samples.png")
    metrics = sample_metrics(model_path, config=config, dataset=dataset)
    atomic_write(args.out / "metrics.json", lambda handle: handle.write(json.dumps(metrics, indent=2).encode()))
    ratio = metrics["diversity"]["overall_ratio"]
    print(
        f"trained {result.step} steps ({result.reason}); model {model_path} (parity max |diff| "
        f"{exported.max_abs_diff:.2g}); samples {samples_path}; diversity vs data "
        f"{'n/a' if ratio is None else f'{ratio:.2f}'}"
    )
    return 0


def sample_metrics(model_path: Path, *, config: GANConfig, dataset: PreparedDataset, count: int = 256) -> dict:
    """Diversity of `count` fixed-seed samples of the exported model against the data (random-features
    network; overall and, for a conditional model, within classes)."""
    session = make_session(model_path)
    labels = np.arange(count, dtype=np.int64) % config.num_classes if config.conditional else None
    images = run_generator(session, latents_for_seeds(range(count), config.latent_dim), labels)
    real = dataset.images.permute(0, 2, 3, 1).numpy()
    report = diversity_metrics(
        real_images=real,
        fake_images=images,
        real_labels=dataset.labels.numpy() if config.conditional else None,
        fake_labels=labels,
    )
    return {"diversity": report, "samples": count, "extractor": "random-features"}


class _Control:
    """The files a supervising process (the worker pool) reads and writes in `--control DIR` (rank 0 only)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, payload: dict) -> None:
        atomic_write(self.directory / name, lambda handle: handle.write(json.dumps(payload).encode()))

    def requested(self, name: str) -> bool:
        return (self.directory / name).exists()

    def progress(self, progress: Progress) -> None:
        payload = {field: (str(value) if isinstance(value, Path) else value) for field, value in vars(progress).items()}
        self.write("progress.json", payload)


def _train_with_progress_bar(
    trainer: Trainer,
    *,
    stop_requested: Callable[[], bool],
    control: _Control | None = None,
    quiet: bool = False,
) -> TrainResult:
    """Train with a tqdm bar (rank 0); with `control`, progress and stop/pause requests go through files."""
    with tqdm(
        total=trainer.config.steps if trainer.config.steps < GANConfig.BOUNDS["steps"][1] else None,
        initial=trainer.step,
        unit="step",
        dynamic_ncols=True,
        disable=quiet,
    ) as bar:

        def on_progress(progress: Progress) -> None:
            if control is not None:
                control.progress(progress)
            bar.update(progress.step - bar.n)
            postfix = {
                "d": f"{progress.losses.get('d_loss', float('nan')):.3f}",
                "g": f"{progress.losses.get('g_loss', float('nan')):.3f}",
                "img_s": f"{progress.images_per_second:.0f}",
            }
            if progress.augment_p is not None:
                postfix["p"] = f"{progress.augment_p:.2f}"
            bar.set_postfix(**postfix)

        def should_stop() -> bool:
            return stop_requested() or (control is not None and control.requested("stop"))

        def should_pause() -> bool:
            return control is not None and control.requested("pause")

        # max_seconds stays None: the config's budget_minutes is the clock
        return trainer.run(on_progress=on_progress, should_stop=should_stop, should_pause=should_pause)


def dry_run(trainer: Trainer, args: argparse.Namespace, summary: str) -> int:
    started = time.perf_counter()
    trainer.train_step()
    seconds = time.perf_counter() - started
    config = trainer.config
    length = f"{args.minutes:g} minutes" if args.minutes is not None else f"{config.steps} steps"
    print(f"dry run ok: {summary}; one step took {seconds:.2f}s (the first is the slowest).")
    print(
        f"would train for {length}, writing {args.out}/dataset.pt, checkpoints/latest.pt every "
        f"{config.checkpoint_every} steps, samples/ and loss_curve.png every {config.sample_every} steps, "
        f"then {args.out}/model.onnx (EMA generator, parity-checked) and {args.out}/samples.png"
    )
    return 0


def write_sample_grid(model_path: Path, *, config: GANConfig, out_path: Path) -> Path:
    """The fixed-seed grid (image i = seed i, class i % K) as the exported model draws it."""
    session = make_session(model_path)
    seeds = range(config.sample_count)
    labels = np.arange(config.sample_count, dtype=np.int64) % config.num_classes if config.conditional else None
    images = run_generator(session, latents_for_seeds(seeds, config.latent_dim), labels)
    return save_png(image_grid(images), out_path)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[Callable[[], bool]]:
    """Ctrl-C / SIGTERM ask the trainer to stop at the next step (with a checkpoint) instead of dying."""
    requested = threading.Event()
    previous = {sig: signal.signal(sig, lambda signum, frame: requested.set()) for sig in STOP_SIGNALS}
    try:
        yield requested.is_set
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
