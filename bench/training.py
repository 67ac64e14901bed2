"""GAN training throughput: generation.gan.trainer against a plain DCGAN loop, side by side in one run.

The reference is the pytorch/examples `dcgan` recipe written out below (same 64x64 architecture, batch 64,
Adam 2e-4 / (0.5, 0.999), BCE, no EMA, no augmentation), fed from the same in-memory toy images. The trainer
runs comparably configured (bce, no DiffAugment, no mirroring) but keeps what the platform always does: the
EMA generator, loss bookkeeping and progress reporting. Each round times the two back to back (alternating
who goes first); the headline ratio is the median over rounds of the paired ratios, which a neighbour's load
that drifts from round to round cannot skew; speeds are medians too, best rounds are reported alongside.

Then multi-process training (generation.gan.distributed): the same trainer config, one process against
`--processes` (default 2) under torchrun with DistributedDataParallel, each rank one thread, the same global
batch; each side is a fresh process group, run twice in alternation (1, N, 1, N), `--ddp-rounds` timed rounds
each after a warm-up step. /proc/loadavg before and after goes into the JSON: the machine is shared.

    python -m bench.training [--rounds 6] [--steps 2] [--device cpu|cuda] [--processes 2] [--ddp-rounds 3]

Prints a one-line summary, then one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn, optim

from generation.gan.config import GANConfig
from generation.gan.data import (
    PreparedDataset,
    load_prepared_dataset,
    prepare_dataset,
    save_prepared_dataset,
    write_toy_dataset,
)
from generation.gan.distributed import close_world, init_world, launched_by_torchrun
from generation.gan.trainer import Trainer, default_device

BATCH, NZ, NGF, NDF, NC = 64, 100, 64, 64, 3
CACHE = Path("var/bench/gan_training_64")
DDP_DATA = CACHE / "toy-64.pt"


# ---- the reference: pytorch/examples dcgan/main.py, model and loop as published ------------------------


class ReferenceGenerator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(NGF * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 8, NGF * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.main(noise)


class ReferenceDiscriminator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(NC, NDF, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 2, NDF * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 4, NDF * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 8, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images).view(-1, 1).squeeze(1)


def weights_init(m: nn.Module) -> None:
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class ReferenceLoop:
    def __init__(self, dataset: PreparedDataset, device: torch.device) -> None:
        torch.manual_seed(0)
        self.device = device
        self.net_g = ReferenceGenerator().to(device)
        self.net_g.apply(weights_init)
        self.net_d = ReferenceDiscriminator().to(device)
        self.net_d.apply(weights_init)
        self.criterion = nn.BCELoss()
        self.optimizer_d = optim.Adam(self.net_d.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optimizer_g = optim.Adam(self.net_g.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.images = dataset.images.to(device)
        self.batches = iter(())

    def next_batch(self) -> torch.Tensor:
        # what the example's DataLoader(shuffle=True, drop_last=True) yields, from memory: full batches
        indices = next(self.batches, None)
        if indices is None:
            passes = -(-BATCH // len(self.images))  # a dataset smaller than a batch is passed over again
            order = torch.cat([torch.randperm(len(self.images)) for _ in range(passes)]).to(self.device)
            full = len(order) // BATCH * BATCH
            self.batches = iter(order[:full].split(BATCH))
            indices = next(self.batches)
        return self.images[indices].float() / 127.5 - 1.0

    def step(self) -> None:
        real_label, fake_label = 1.0, 0.0
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        self.net_d.zero_grad()
        real_cpu = self.next_batch()
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=self.device)
        output = self.net_d(real_cpu)
        err_d_real = self.criterion(output, label)
        err_d_real.backward()
        noise = torch.randn(batch_size, NZ, 1, 1, device=self.device)
        fake = self.net_g(noise)
        label.fill_(fake_label)
        output = self.net_d(fake.detach())
        err_d_fake = self.criterion(output, label)
        err_d_fake.backward()
        self.optimizer_d.step()
        # (2) Update G network: maximize log(D(G(z)))
        self.net_g.zero_grad()
        label.fill_(real_label)
        output = self.net_d(fake)
        err_g = self.criterion(output, label)
        err_g.backward()
        self.optimizer_g.step()


# ---- the measurement ---------------------------------------------------------------------------------------


def trainer_config() -> GANConfig:
    return GANConfig(
        resolution=64,
        latent_dim=NZ,
        g_channels=NGF,
        d_channels=NDF,
        batch_size=BATCH,
        loss="bce",
        augment_policy="",
        mirror=False,
        spectral_norm=False,
        ema_decay=0.999,
        steps=1_000_000,
        seed=0,
    )


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def toy_dataset() -> PreparedDataset:
    toy = write_toy_dataset(out_dir=CACHE / "toy", classes=4, per_class=25, resolution=64, seed=0)
    return prepare_dataset(image_dir=toy, resolution=64)


def ddp_worker(*, steps: int, rounds: int, device: str, out: Path) -> None:
    """One side of the multi-process comparison: this process alone, or one rank under torchrun."""
    world, chosen = init_world(device=device) if launched_by_torchrun() else (None, torch.device(device))
    dataset = load_prepared_dataset(DDP_DATA)  # written once by the parent: ranks must not race to build it
    trainer = Trainer(config=trainer_config(), dataset=dataset, device=chosen, world=world)
    trainer.run(max_steps=1)  # warm-up
    speeds = []
    for _ in range(rounds):
        synchronize(chosen)
        started = time.perf_counter()
        trainer.run(max_steps=steps)
        synchronize(chosen)
        speeds.append(steps * BATCH / (time.perf_counter() - started))
    if world is None or world.is_main:
        out.write_text(json.dumps(speeds))
    close_world()


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "n/a"


def compare_processes(*, processes: int, steps: int, rounds: int, device: torch.device) -> dict[str, object]:
    """images/s of one process and of `processes` ranks (one thread each on the CPU), alternating twice."""
    save_prepared_dataset(toy_dataset(), DDP_DATA)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = CACHE / "ddp_speeds.json"
    worker = [
        "-m",
        "bench.training",
        "--ddp-worker",
        "--steps",
        str(steps),
        "--ddp-rounds",
        str(rounds),
        "--device",
        device.type,
        "--ddp-out",
        str(out),
    ]
    speeds: dict[int, list[float]] = {1: [], processes: []}
    for count in (1, processes, 1, processes):
        launcher = (
            [sys.executable]
            if count == 1
            else [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(count)]
        )
        out.unlink(missing_ok=True)
        subprocess.run([*launcher, *worker], env=env, check=True, timeout=1800)
        speeds[count] += json.loads(out.read_text())
    medians = {str(count): round(statistics.median(values), 2) for count, values in speeds.items()}
    return {
        "ddp_processes": processes,
        "ddp_threads_per_process": 1,
        "ddp_steps_per_round": steps,
        "ddp_ips": medians,
        "ddp_ips_rounds": {str(count): [round(v, 2) for v in values] for count, values in speeds.items()},
        "ddp_speedup": round(medians[str(processes)] / medians["1"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=2, help="steps per side per round")
    parser.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    parser.add_argument("--processes", type=int, default=2, help="ranks to compare with one process (0: skip)")
    parser.add_argument("--ddp-rounds", type=int, default=3, help="timed rounds per multi-process side")
    parser.add_argument("--ddp-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ddp-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = torch.device(args.device) if args.device else default_device()
    if args.ddp_worker:
        ddp_worker(steps=args.steps, rounds=args.ddp_rounds, device=device.type, out=args.ddp_out)
        return
    load_before = loadavg()

    dataset = toy_dataset()
    trainer = Trainer(config=trainer_config(), dataset=dataset, device=device)
    reference = ReferenceLoop(dataset, device)
    steps = args.steps * (10 if device.type == "cuda" else 1)

    def time_trainer() -> float:
        synchronize(device)
        started = time.perf_counter()
        trainer.run(max_steps=steps)
        synchronize(device)
        return steps * BATCH / (time.perf_counter() - started)

    def time_reference() -> float:
        synchronize(device)
        started = time.perf_counter()
        for _ in range(steps):
            reference.step()
        synchronize(device)
        return steps * BATCH / (time.perf_counter() - started)

    time_trainer()  # warm-up: first-call kernel selection and allocations
    time_reference()
    trainer_speeds, reference_speeds = [], []
    for round_index in range(args.rounds):
        # alternate who goes first, so neither always runs on a freshly warmed (or cooled) machine
        if round_index % 2:
            reference_speeds.append(time_reference())
            trainer_speeds.append(time_trainer())
        else:
            trainer_speeds.append(time_trainer())
            reference_speeds.append(time_reference())

    ratios = [t / r for t, r in zip(trainer_speeds, reference_speeds, strict=True)]
    result = {
        "bench": "gan_training",
        "resolution": 64,
        "batch": BATCH,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "rounds": args.rounds,
        "steps_per_round": steps,
        "trainer_ips": round(statistics.median(trainer_speeds), 2),
        "reference_ips": round(statistics.median(reference_speeds), 2),
        "trainer_vs_reference": round(statistics.median(ratios), 3),
        "trainer_best_ips": round(max(trainer_speeds), 2),
        "reference_best_ips": round(max(reference_speeds), 2),
        "ratio_rounds": [round(v, 3) for v in ratios],
        "trainer_ips_rounds": [round(v, 2) for v in trainer_speeds],
        "reference_ips_rounds": [round(v, 2) for v in reference_speeds],
        "torch_version": torch.__version__,
    }
    if args.processes > 1:
        result.update(compare_processes(processes=args.processes, steps=steps, rounds=args.ddp_rounds, device=device))
    result["loadavg_before"], result["loadavg_after"] = load_before, loadavg()
    print(
        f"DCGAN-64 training, batch {BATCH} on {device} ({result['threads']} threads), images/s (median of "
        f"{args.rounds} rounds): trainer {result['trainer_ips']:.1f} vs reference loop "
        f"{result['reference_ips']:.1f} -> x{result['trainer_vs_reference']:.2f} (median paired ratio)"
    )
    if "ddp_ips" in result:
        print(f"multi-process, 1 thread per process, images/s: {result['ddp_ips']} -> x{result['ddp_speedup']:.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
