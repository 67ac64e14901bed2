"""One training run over several processes: the worker runs the engine's CLI under torchrun and watches it.

`torchrun --standalone --nproc-per-node N -m generation.gan.train --config ... --control DIR --no-export`
trains with DistributedDataParallel; rank 0 writes checkpoints and samples into the run's directory as the
single-process trainer does, plus DIR/progress.json at every report and DIR/result.json at the end. This
process forwards progress to the run's row (through the same monitor as in-process training), turns a cancel,
the plan's time limit or a pause request into the files `stop` / `pause` that rank 0 obeys (all ranks agree on
the step), and exports from the checkpoint afterwards. A rank that dies ends torchrun non-zero: a retryable
failure, so the next attempt resumes from the last checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Protocol

from generation.gan.config import GANConfig
from generation.gan.distributed import die_with_parent
from generation.gan.trainer import Progress, TrainResult, load_checkpoint

logger = logging.getLogger("atelier.generation.training")

POLL_SECONDS = 0.5
PAUSE_POLL_SECONDS = 2.0  # one query per poll: the pause flag needs no faster answer than a checkpoint interval
STOP_GRACE_SECONDS = 120.0  # after `stop`, how long the ranks get to checkpoint and exit before being killed


class _Monitor(Protocol):
    def should_stop(self) -> bool: ...
    def should_pause(self) -> bool: ...
    def on_progress(self, progress: Progress) -> None: ...


def checkpoint_progress(directory: Path) -> tuple[int, float]:
    """(step, training seconds so far) of the run's checkpoint; (0, 0.0) before the first."""
    checkpoint = directory / "checkpoints" / "latest.pt"
    if not checkpoint.exists():
        return 0, 0.0
    state = load_checkpoint(checkpoint)
    return int(state["step"]), float(state.get("elapsed_seconds", 0.0))


def launch_command(
    *, processes: int, config_file: Path, dataset_file: Path, directory: Path, control: Path, device: str, resume: bool
) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        str(processes),
        "-m",
        "generation.gan.train",
        "--dataset-file",
        str(dataset_file),
        "--config",
        str(config_file),
        "--out",
        str(directory),
        "--control",
        str(control),
        "--no-export",
        "--device",
        device,
    ]
    return [*command, "--resume"] if resume else command


def train_in_processes(
    *, processes: int, config: GANConfig, dataset_file: Path, directory: Path, device: str, monitor: _Monitor
) -> TrainResult:
    """Train `config` with `processes` ranks until it completes, stops or pauses; raises RuntimeError when the
    processes fail (a rank died, torchrun could not start)."""
    control = directory / "control"
    control.mkdir(parents=True, exist_ok=True)
    for name in ("stop", "pause", "progress.json", "result.json"):
        (control / name).unlink(missing_ok=True)
    config_file = control / "config.json"
    config_file.write_text(json.dumps(config.to_dict()))
    resume = (directory / "checkpoints" / "latest.pt").exists()
    env = dict(os.environ)
    # each rank is one process of the pool's share of cores; torchrun's default is 1 thread each
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // processes)))
    command = launch_command(
        processes=processes,
        config_file=config_file,
        dataset_file=dataset_file,
        directory=directory,
        control=control,
        device=device,
        resume=resume,
    )
    logger.info("training with %s processes: %s", processes, " ".join(command))
    log_path = control / "train.log"  # a file, not a pipe: nobody reads a pipe while the ranks write to it
    with log_path.open("w") as log:
        child = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,  # noqa: PLW1509
            preexec_fn=die_with_parent,
        )
    try:
        last_progress = _watch(child, control=control, monitor=monitor)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    result_file = control / "result.json"
    if not result_file.exists():
        tail = log_path.read_text(errors="replace")[-2000:].strip()
        raise RuntimeError(f"training processes exited with status {child.returncode} before finishing: {tail}")
    result = json.loads(result_file.read_text())
    checkpoint = directory / "checkpoints" / "latest.pt"
    return TrainResult(
        step=int(result["step"]),
        total_steps=int(result["total_steps"]),
        reason=str(result["reason"]),
        checkpoint_path=checkpoint if checkpoint.exists() else None,
        sample_grid_path=last_progress.sample_grid_path if last_progress else None,
        loss_curve_path=last_progress.loss_curve_path if last_progress else None,
        losses=dict(last_progress.losses) if last_progress else {},
    )


def _watch(child: subprocess.Popen, *, control: Path, monitor: _Monitor) -> Progress | None:
    """Forward progress and requests until the processes exit; the last progress read."""
    last_progress: Progress | None = None
    seen_mtime = 0.0
    stop_sent_at: float | None = None
    next_pause_check = 0.0
    while child.poll() is None:
        time.sleep(POLL_SECONDS)
        progress_file = control / "progress.json"
        if progress_file.exists() and progress_file.stat().st_mtime != seen_mtime:
            seen_mtime = progress_file.stat().st_mtime
            last_progress = _read_progress(progress_file) or last_progress
            if last_progress is not None:
                monitor.on_progress(_pinned(last_progress, control))
        if stop_sent_at is None and monitor.should_stop():
            (control / "stop").touch()
            stop_sent_at = time.monotonic()
        if time.monotonic() >= next_pause_check:
            next_pause_check = time.monotonic() + PAUSE_POLL_SECONDS
            if monitor.should_pause():
                (control / "pause").touch()
            else:  # withdrawn before the next boundary
                (control / "pause").unlink(missing_ok=True)
        if stop_sent_at is not None and time.monotonic() - stop_sent_at > STOP_GRACE_SECONDS:
            child.terminate()
    final = control / "progress.json"  # written after the last poll: the finished step's report
    if final.exists() and final.stat().st_mtime != seen_mtime:
        last_progress = _read_progress(final) or last_progress
        if last_progress is not None:
            monitor.on_progress(_pinned(last_progress, control))
    return last_progress


def _pinned(progress: Progress, control: Path) -> Progress:
    """The progress with its checkpoint hard-linked aside: rank 0 keeps training and replaces latest.pt (by
    rename) while the monitor may be reading it to store it in the bucket, and a link keeps one file whole."""
    if progress.checkpoint_path is None or not progress.checkpoint_path.exists():
        return progress
    pinned = control / "checkpoint-pinned.pt"
    pinned.unlink(missing_ok=True)
    try:
        os.link(progress.checkpoint_path, pinned)
    except OSError:  # replaced in between: the next report links the new one
        return progress
    return dataclasses.replace(progress, checkpoint_path=pinned)


def _read_progress(path: Path) -> Progress | None:
    try:
        payload: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):  # replaced while read: the next poll reads the new one
        return None
    for name in ("sample_grid_path", "loss_curve_path", "checkpoint_path"):
        payload[name] = Path(payload[name]) if payload.get(name) else None
    return Progress(**payload)
