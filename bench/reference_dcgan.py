"""The pytorch/examples DCGAN recipe (dcgan/main.py), as the baseline bench.quality measures Atelier against.

Same networks (nz 100, ngf = ndf = 64, ConvTranspose/BN/ReLU generator ending in Tanh, Conv/BN/LeakyReLU(0.2)
discriminator ending in Sigmoid, N(0, 0.02) weights and N(1, 0.02) BatchNorm scales), the same loss (BCE, real
label 1, fake 0; the generator step uses label 1 on fakes) and optimiser (Adam, lr 2e-4, betas (0.5, 0.999)),
batch 64, images scaled to [-1, 1], one D step then one G step per batch. Two deliberate differences: the loop
runs for a wall-clock budget instead of epochs, and at 32 px one up/down stage is dropped (4 -> 8 -> 16 -> 32),
the usual 32 px form of the same recipe (the example itself only builds 64 px networks).

    python -m bench.reference_dcgan --data DIR --out FILE.pt (--minutes M | --steps N) --resolution 32|64 --seed S
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bench.quality_sets import load_folder

NZ, NGF, NDF, NC = 100, 64, 64, 3
BATCH = 64
LR, BETA1 = 2e-4, 0.5


def weights_init(module: nn.Module) -> None:
    name = module.__class__.__name__
    if "Conv" in name:
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def _stages(resolution: int) -> int:
    if resolution not in (32, 64):
        raise ValueError("the reference DCGAN is built for 32 or 64 px")
    return 4 if resolution == 64 else 3


class Generator(nn.Module):
    def __init__(self, resolution: int = 64) -> None:
        super().__init__()
        widths = [NGF * 2**i for i in reversed(range(_stages(resolution)))]  # 64 px: 512, 256, 128, 64
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(NZ, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        ]
        for c_in, c_out in zip(widths, widths[1:], strict=False):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[-1], NC, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, resolution: int = 64) -> None:
        super().__init__()
        widths = [NDF * 2**i for i in range(_stages(resolution))]  # 64 px: 64, 128, 256, 512
        layers: list[nn.Module] = [nn.Conv2d(NC, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        for c_in, c_out in zip(widths, widths[1:], strict=False):
            layers += [
                nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers += [nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(-1, 1).squeeze(1)


def train(
    *, images: np.ndarray, resolution: int, seconds: float | None, seed: int, max_steps: int | None = None
) -> tuple[Generator, dict]:
    """Train on uint8 images [N, R, R, 3] for `seconds` of wall clock and/or `max_steps` batches;
    (G, {steps, seconds, images_seen})."""
    if seconds is None and max_steps is None:
        raise ValueError("give a time budget, a step count or both")
    torch.manual_seed(seed)
    data = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    net_g, net_d = Generator(resolution), Discriminator(resolution)
    net_g.apply(weights_init)
    net_d.apply(weights_init)
    criterion = nn.BCELoss()
    opt_d = torch.optim.Adam(net_d.parameters(), lr=LR, betas=(BETA1, 0.999))
    opt_g = torch.optim.Adam(net_g.parameters(), lr=LR, betas=(BETA1, 0.999))
    generator = torch.Generator().manual_seed(seed)
    steps = seen = 0
    start = time.monotonic()
    deadline = start + seconds if seconds is not None else float("inf")
    max_steps = max_steps if max_steps is not None else float("inf")

    def done() -> bool:
        return steps >= max_steps or time.monotonic() >= deadline

    while not done():
        order = torch.randperm(len(data), generator=generator)  # a shuffled epoch, last batch partial
        for begin in range(0, len(data), BATCH):
            if done():
                break
            real = data[order[begin : begin + BATCH]]
            if len(real) < 2:  # BatchNorm needs two
                continue
            b = len(real)
            net_d.zero_grad()
            err_real = criterion(net_d(real), torch.full((b,), 1.0))
            err_real.backward()
            fake = net_g(torch.randn(b, NZ, 1, 1))
            err_fake = criterion(net_d(fake.detach()), torch.full((b,), 0.0))
            err_fake.backward()
            opt_d.step()
            net_g.zero_grad()
            err_g = criterion(net_d(fake), torch.full((b,), 1.0))
            err_g.backward()
            opt_g.step()
            steps += 1
            seen += b
    return net_g, {"steps": steps, "seconds": time.monotonic() - start, "images_seen": seen}


@torch.no_grad()
def sample(net_g: Generator, *, count: int, seed: int, batch: int = BATCH) -> np.ndarray:
    """uint8 [count, R, R, 3]; in train mode, as the example draws its samples (BatchNorm on batch statistics)."""
    net_g.train()
    generator = torch.Generator().manual_seed(seed)
    chunks = []
    for begin in range(0, count, batch):
        z = torch.randn(min(batch, count - begin), NZ, 1, 1, generator=generator)
        chunks.append(((net_g(z).clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy())
    return np.concatenate(chunks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reference_dcgan", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="where G's state and the run's counts go (.pt)")
    length = parser.add_mutually_exclusive_group(required=True)
    length.add_argument("--minutes", type=float, help="wall-clock budget of the training loop")
    length.add_argument("--steps", type=int, help="exactly this many steps (smoke tests)")
    parser.add_argument("--resolution", type=int, choices=(32, 64), required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    images, _, _ = load_folder(args.data)
    if images.shape[1] != args.resolution:
        parser.error(f"{args.data} holds {images.shape[1]} px images, not {args.resolution}")
    seconds = args.minutes * 60 if args.minutes is not None else None
    net_g, stats = train(
        images=images, resolution=args.resolution, seconds=seconds, seed=args.seed, max_steps=args.steps
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"generator": net_g.state_dict(), "resolution": args.resolution, **stats}, args.out)
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
