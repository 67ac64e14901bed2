"""Train a GAN on an image folder, then export it: `python -m generation.gan.train --data DIR --out DIR`.

OUT receives dataset.pt (the preprocessed images), checkpoints/latest.pt, samples/ and loss_curve.png while
training, then model.onnx (EMA generator, parity-checked) and samples.png (its fixed-seed grid) at the end.
Ctrl-C or SIGTERM stops at the next step with a checkpoint; `--resume` continues it exactly.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from generation.gan.config import GANConfig
from generation.gan.data import DatasetError, PreparedDataset, prepare_dataset
from generation.gan.export import ParityError, export_generator
from generation.gan.inference import make_session, run_generator
from generation.gan.noise import latents_for_seeds
from generation.gan.trainer import Progress, Trainer, TrainResult, default_device, load_checkpoint
from generation.gan.visuals import image_grid, save_png

DEFAULT_AUGMENT = GANConfig().augment_policy
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class CliError(Exception):
    """A one-line reason to exit non-zero."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m generation.gan.train", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data", type=Path, required=True, help="image folder (class subfolders = labels)")
    parser.add_argument(
        "--out", type=Path, required=True, help="run folder: checkpoints, samples, model.onnx"
    )
    parser.add_argument("--resolution", type=int, default=None, help="32, 64 or 128 (default 32)")
    parser.add_argument("--batch-size", type=int, default=None, help="default 64")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, default=None, help="training steps (default 10000)")
    length.add_argument("--minutes", type=float, default=None, help="train for this long instead")
    parser.add_argument(
        "--augment", choices=["diffaugment", "none"], default=None, help="default diffaugment"
    )
    parser.add_argument("--loss", choices=["bce", "hinge"], default=None, help="default bce")
    parser.add_argument("--conditional", action="store_true", default=None, help="class-conditional model")
    parser.add_argument("--seed", type=int, default=None, help="default 0")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    parser.add_argument(
        "--dry-run", action="store_true", help="check data and config, time one step, write nothing"
    )
    return parser


def config_from_args(args: argparse.Namespace, dataset: PreparedDataset) -> GANConfig:
    overrides: dict[str, object] = {"resolution": args.resolution or 32}
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    if args.steps is not None:
        overrides["steps"] = args.steps
    elif args.minutes is not None:
        overrides["steps"] = int(GANConfig.BOUNDS["steps"][1])  # the clock decides
    if args.augment is not None:
        overrides["augment_policy"] = DEFAULT_AUGMENT if args.augment == "diffaugment" else ""
    if args.loss is not None:
        overrides["loss"] = args.loss
    if args.conditional:
        overrides.update(conditional=True, num_classes=dataset.num_classes)
    if args.seed is not None:
        overrides["seed"] = args.seed
    return GANConfig.from_overrides(None, overrides)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (CliError, DatasetError, ValueError, ParityError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    if args.minutes is not None and args.minutes <= 0:
        raise CliError("--minutes must be positive")
    checkpoint = args.out / "checkpoints" / "latest.pt"
    if args.resume and not checkpoint.is_file():
        raise CliError(f"nothing to resume: {checkpoint} does not exist")
    if not args.resume and not args.dry_run and checkpoint.exists():
        raise CliError(
            f"{args.out} already holds a run; pass --resume to continue it or choose another --out"
        )
    device = args.device or str(default_device())

    if args.resume:
        state_config = GANConfig.from_dict(load_checkpoint(checkpoint)["config"])
        dataset = prepare_dataset(image_dir=args.data, resolution=state_config.resolution)
        changes: dict[str, object] = {}
        if args.steps is not None:
            changes["steps"] = args.steps
        elif args.minutes is not None:
            changes["steps"] = int(GANConfig.BOUNDS["steps"][1])
        trainer = Trainer.resume(
            checkpoint_path=checkpoint,
            dataset=dataset,
            device=device,
            out_dir=args.out,
            config_changes=changes,
        )
    else:
        dataset = prepare_dataset(
            image_dir=args.data,
            resolution=args.resolution or 32,
            out_path=None if args.dry_run else args.out / "dataset.pt",
        )
        config = config_from_args(args, dataset)
        trainer = Trainer(
            config=config, dataset=dataset, device=device, out_dir=None if args.dry_run else args.out
        )
    config = trainer.config
    summary = (
        f"{dataset.num_images} images in {dataset.num_classes} class(es) at {config.resolution}px, "
        f"{'conditional' if config.conditional else 'unconditional'}, loss {config.loss}, "
        f"batch {config.batch_size}, augment {config.augment_policy or 'none'}, seed {config.seed}, "
        f"on {device}"
    )
    if args.dry_run:
        return dry_run(trainer, args, summary)

    print(f"training: {summary}", file=sys.stderr)
    max_seconds = args.minutes * 60 if args.minutes is not None else None
    with _stop_on_signals() as stop_requested:
        result = _train_with_progress_bar(trainer, stop_requested=stop_requested, max_seconds=max_seconds)
    if result.reason == "cancelled":
        print(
            f"stopped at step {result.step}; checkpoint {result.checkpoint_path}; rerun with --resume",
            file=sys.stderr,
        )
        return 130
    model_path = args.out / "model.onnx"
    exported = export_generator(
        generator=trainer.generator_ema,
        config=config,
        out_path=model_path,
        step=trainer.step,
        dataset_hash=trainer.dataset_hash,
        class_names=trainer.class_names,
    )
    samples_path = write_sample_grid(model_path, config=config, out_path=args.out / "samples.png")
    print(
        f"trained {result.step} steps; model {model_path} (parity max |diff| {exported.max_abs_diff:.2g}); "
        f"samples {samples_path}"
    )
    return 0


def _train_with_progress_bar(
    trainer: Trainer, *, stop_requested: Callable[[], bool], max_seconds: float | None
) -> TrainResult:
    with tqdm(
        total=None if max_seconds else trainer.config.steps,
        initial=trainer.step,
        unit="step",
        dynamic_ncols=True,
    ) as bar:

        def on_progress(progress: Progress) -> None:
            bar.update(progress.step - bar.n)
            bar.set_postfix(
                d=f"{progress.losses.get('d_loss', float('nan')):.3f}",
                g=f"{progress.losses.get('g_loss', float('nan')):.3f}",
                img_s=f"{progress.images_per_second:.0f}",
            )

        return trainer.run(on_progress=on_progress, should_stop=stop_requested, max_seconds=max_seconds)


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
    labels = (
        np.arange(config.sample_count, dtype=np.int64) % config.num_classes if config.conditional else None
    )
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
