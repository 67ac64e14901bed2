"""Shared fixtures for the GAN engine tests: toy data written once per session, tiny configs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from generation.gan.config import GANConfig
from generation.gan.data import PreparedDataset, prepare_dataset, write_toy_dataset


@pytest.fixture(autouse=True, scope="session")
def single_torch_thread() -> Iterator[None]:
    # Two intra-op threads on a shared 2-core machine stall at every barrier when a neighbour takes a core;
    # one thread keeps these tests fast. Numerics are deterministic either way.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def toy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_dataset(
        out_dir=tmp_path_factory.mktemp("toy") / "shapes", classes=3, per_class=8, resolution=32, seed=7
    )


@pytest.fixture(scope="session")
def toy_dataset(toy_dir: Path) -> PreparedDataset:
    return prepare_dataset(image_dir=toy_dir, resolution=32)


@pytest.fixture
def tiny_config() -> Callable[..., GANConfig]:
    """A config small enough for a step to take milliseconds; keyword arguments override it."""

    def make(**changes: object) -> GANConfig:
        base = dict(
            resolution=32,
            latent_dim=16,
            g_channels=8,
            d_channels=8,
            batch_size=8,
            steps=6,
            log_every=1,
            checkpoint_every=1000,
            sample_every=1000,
            sample_count=16,
        )
        return GANConfig.from_dict({**base, **changes})

    return make
