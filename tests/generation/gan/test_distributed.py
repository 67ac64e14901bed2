"""Two CPU processes under torchrun train the same run one process trains, and survive losing a rank."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from generation.gan.config import ConfigError
from generation.gan.data import save_prepared_dataset
from generation.gan.distributed import World
from generation.gan.trainer import Trainer, load_checkpoint

REPO = Path(__file__).resolve().parents[3]


def _env() -> dict[str, str]:
    # one thread per rank; a dead peer fails the survivor's next collective after 60 s rather than hanging
    # (torchrun usually stops the survivor first)
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "ATELIER_DIST_TIMEOUT": "60"}


def _torchrun(*args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "generation.gan.train",
        "--device",
        "cpu",
        "--no-export",
        *args,
    ]


@pytest.fixture
def setup(tmp_path, toy_dataset, tiny_config):
    def make(**changes):
        # FastGAN (batch norm in G and D, D's decoder), conditional, hinge + reconstruction, ADA: every part that
        # has to be split over ranks
        config = tiny_config(
            arch="fastgan",
            conditional=True,
            num_classes=3,
            loss="hinge",
            recon_weight=1.0,
            ada=True,
            ada_interval=2,
            **changes,
        )
        data, config_file = tmp_path / "data.pt", tmp_path / "config.json"
        save_prepared_dataset(toy_dataset, data)
        config_file.write_text(json.dumps(config.to_dict()))
        return config, ["--dataset-file", str(data), "--config", str(config_file)]

    return make


@pytest.mark.slow
def test_two_processes_match_one_process_on_the_same_global_batch(setup, toy_dataset, tmp_path):
    config, args = setup(steps=6, checkpoint_every=3)
    single = Trainer(config=config, dataset=toy_dataset, device="cpu")
    single.run()
    out = tmp_path / "ddp"
    done = subprocess.run(
        _torchrun(*args, "--out", str(out)), env=_env(), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-6000:]
    state = load_checkpoint(out / "checkpoints" / "latest.pt")
    assert state["step"] == 6
    # Both sides compute the same function of the same images and noise (rows split, gradients averaged, batch
    # norm over the global batch); only float32 summation order differs (all-reduce, half-batch convolutions),
    # ~1e-7 relative per op. Measured: |diff| <= 2.4e-6 on losses of ~1..7 after 6 steps; 1e-4 relative leaves
    # room for a few more ops of drift, while any real difference (per-rank BN statistics, a rank reusing
    # another's noise, unaveraged gradients) moves a loss by 1e-2 or more at the first step.
    for name, values in single.history.items():
        torch.testing.assert_close(
            state["history"][name], torch.tensor(values, dtype=torch.float64), rtol=1e-4, atol=1e-5, msg=name
        )
    for name, tensor in single.generator_ema.state_dict().items():
        torch.testing.assert_close(state["generator_ema"][name].float(), tensor.float(), rtol=1e-3, atol=1e-4)
    assert state["ada"]["signal"] == pytest.approx(single.ada.signal)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *_children(int(child))]
    return found


def _rank_pid(launcher: int, rank: int) -> int | None:
    for pid in _children(launcher):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in environ and b"TORCHELASTIC_RUN_ID" in b"".join(environ):
            return pid
    return None


@pytest.mark.slow
def test_a_killed_rank_ends_the_run_and_it_resumes_exactly_from_the_checkpoint(setup, tmp_path):
    config, args = setup(steps=24, checkpoint_every=4)
    reference = tmp_path / "reference"
    done = subprocess.run(
        _torchrun(*args, "--out", str(reference)), env=_env(), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-6000:]

    out, control = tmp_path / "killed", tmp_path / "control"
    launcher = subprocess.Popen(
        _torchrun(*args, "--out", str(out), "--control", str(control)),
        env=_env(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            progress = control / "progress.json"
            if progress.exists() and json.loads(progress.read_text())["step"] >= 8:
                break
            assert launcher.poll() is None, launcher.stderr.read()[-3000:]
            time.sleep(0.2)
        victim = _rank_pid(launcher.pid, 1)
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        started = time.monotonic()
        launcher.wait(timeout=120)  # no hang: the survivor's collective fails, torchrun stops it
        assert launcher.returncode != 0
        assert time.monotonic() - started < 90
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
    left = load_checkpoint(out / "checkpoints" / "latest.pt")
    assert 8 <= left["step"] < 24 and left["step"] % 4 == 0
    assert not (control / "result.json").exists()

    resumed = subprocess.run(
        _torchrun(*args, "--out", str(out), "--resume"),
        env=_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-6000:]
    final, expected = (
        load_checkpoint(out / "checkpoints" / "latest.pt"),
        load_checkpoint(reference / "checkpoints" / "latest.pt"),
    )
    assert final["step"] == expected["step"] == 24
    for name in expected["history"]:  # the same processes, states and reduction order: bit for bit
        assert torch.equal(final["history"][name], expected["history"][name]), name
    for name, tensor in expected["generator_ema"].items():
        assert torch.equal(final["generator_ema"][name], tensor), name


def test_global_batch_must_split_evenly(toy_dataset, tiny_config):
    with pytest.raises(ConfigError, match="batch_size"):
        Trainer(config=tiny_config(batch_size=9), dataset=toy_dataset, device="cpu", world=World(0, 2, 0))


@pytest.mark.parametrize("p", [None, 0.5])
def test_augment_shards_are_the_full_batchs_rows_and_leave_the_generators_in_step(p):
    from generation.gan.augment import diff_augment

    images = torch.randn(8, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    ops = ("color", "translation", "cutout")
    whole_rng = torch.Generator().manual_seed(1)
    whole = diff_augment(images, ops=ops, generator=whole_rng, p=p)
    for offset in (0, 4):
        rng = torch.Generator().manual_seed(1)
        part = diff_augment(images[offset : offset + 4], ops=ops, generator=rng, p=p, shard=(offset, 8))
        assert torch.equal(part, whole[offset : offset + 4])
        assert torch.equal(rng.get_state(), whole_rng.get_state())
