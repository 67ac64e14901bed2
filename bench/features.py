"""The feature space bench.quality scores in: a small CNN classifier trained here on the `probe` set.

The probe set (digits in the Liberation fonts, six procedural kinds; see bench.quality_sets) shares no image,
font or generator with the sets that are generated from, so the network has never seen what it judges — the
role InceptionV3-on-ImageNet plays for FID, at a size a shared 2-core CPU trains in a minute or two. Features are
the 256-d global average pool before the classifier head. Inputs of any size are resized (antialiased) to 32 px,
so 64 px sets are judged on what survives at 32 px: a time compromise, since the network is trained here.

The trained weights are cached under var/ by a digest of this file's code, the probe set's digest and the seed.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from bench.quality_sets import load_folder, materialise, set_digest

SIDE = 32
FEATURE_DIM = 256


class ProbeNet(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        widths = (3, 32, 64, 128, FEATURE_DIM)
        layers: list[nn.Module] = []
        for c_in, c_out in zip(widths, widths[1:], strict=False):
            layers += [
                nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(True),
                nn.Conv2d(c_out, c_out, 3, 2, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(True),
            ]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(FEATURE_DIM, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def to_input(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float [N, 3, SIDE, SIDE] in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    if x.shape[-1] != SIDE:
        x = F.interpolate(x, size=(SIDE, SIDE), mode="bilinear", antialias=True, align_corners=False)
    return x


def _augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    flip = torch.rand(len(x), generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    shift = torch.randint(-4, 5, (2,), generator=generator).tolist()
    return torch.roll(x, shifts=shift, dims=(2, 3))


def train_probe_net(*, images: np.ndarray, labels: np.ndarray, seed: int, epochs: int) -> tuple[ProbeNet, float]:
    """(network, accuracy on a held-out tenth) after `epochs` of Adam on 90 % of the images."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(images), generator=generator)
    held = max(1, len(images) // 10)
    x_all, y_all = to_input(images), torch.from_numpy(labels)
    x_train, y_train = x_all[order[held:]], y_all[order[held:]]
    net = ProbeNet(int(labels.max()) + 1)
    optimiser = torch.optim.Adam(net.parameters(), lr=2e-3)
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(len(x_train), generator=generator)
        for begin in range(0, len(x_train), 64):
            index = perm[begin : begin + 64]
            if len(index) < 2:
                continue
            loss = F.cross_entropy(net(_augment(x_train[index], generator)), y_train[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    net.eval()
    with torch.no_grad():
        accuracy = (net(x_all[order[:held]]).argmax(1) == y_all[order[:held]]).float().mean().item()
    return net, accuracy


class FeatureSpace:
    """A callable uint8 [N, H, W, 3] -> float64 [N, 256], plus what it was trained on."""

    def __init__(self, net: ProbeNet, info: dict) -> None:
        self.net, self.info = net.eval(), info

    @torch.no_grad()
    def __call__(self, images: np.ndarray, batch: int = 200) -> np.ndarray:
        chunks = [
            self.net.features(to_input(images[i : i + batch])).double().numpy() for i in range(0, len(images), batch)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, FEATURE_DIM))


def load_feature_space(*, root: Path, count: int = 1600, seed: int = 0, epochs: int = 4) -> FeatureSpace:
    """The cached probe network for (this code, probe set, seed, epochs), trained first if missing."""
    key = json.dumps(
        {
            "code": inspect.getsource(inspect.getmodule(ProbeNet)),
            "set": set_digest("probe", count, seed),
            "seed": seed,
            "epochs": epochs,
            "count": count,
        }
    )
    path = root / f"probe-net-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt"
    if path.is_file():
        saved = torch.load(path, weights_only=True)
        net = ProbeNet(saved["num_classes"])
        net.load_state_dict(saved["state"])
        return FeatureSpace(net, saved["info"])
    folder = materialise(name="probe", count=count, seed=seed, root=root / "sets")
    images, labels, names = load_folder(folder)
    net, accuracy = train_probe_net(images=images, labels=labels, seed=seed, epochs=epochs)
    info = {
        "classes": len(names),
        "images": len(images),
        "epochs": epochs,
        "held_out_accuracy": round(accuracy, 4),
        "file": path.name,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state": net.state_dict(), "num_classes": len(names), "info": info}, path)
    return FeatureSpace(net, info)
