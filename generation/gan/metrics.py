"""Fréchet distance (FID) and kernel distance (KID) over a pluggable feature extractor.

An extractor maps uint8 images [N, H, W, 3] to features [N, D]. The standard one is InceptionV3 as published
for StyleGAN/clean-fid (`inception-2015-12-05.pt`, TorchScript, called as
`model(uint8 NCHW, return_features=True)`), loaded only from a local file: `weights_path=` or the
environment variable GENERATION_INCEPTION_WEIGHTS. Nothing is downloaded; without the file the result says
`available=False` and why, never a number from some other network.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

INCEPTION_WEIGHTS_ENV = "GENERATION_INCEPTION_WEIGHTS"

FeatureExtractor = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class MetricResult:
    available: bool
    reason: str | None = None  # why not available
    fid: float | None = None
    kid: float | None = None  # mean over subsets of the unbiased MMD^2 estimate
    kid_std: float | None = None
    num_real: int = 0
    num_fake: int = 0


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and covariance [D, D] (unbiased), in float64."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)).

    tr((S1 S2)^(1/2)) is computed as tr((S1^(1/2) S2 S1^(1/2))^(1/2)) (the two matrices are similar), which
    needs only symmetric eigendecompositions: stable, real, and no scipy.
    """
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    eigenvalues, eigenvectors = np.linalg.eigh(sigma1)
    sqrt_sigma1 = (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T
    middle = sqrt_sigma1 @ sigma2 @ sqrt_sigma1
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    diff = np.asarray(mu1, dtype=np.float64) - np.asarray(mu2, dtype=np.float64)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt)


def kernel_distance(
    features1: np.ndarray,
    features2: np.ndarray,
    *,
    num_subsets: int = 100,
    max_subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """(mean, std) over random subsets of the unbiased MMD^2 with the cubic kernel (x.y / d + 1)^3."""
    x_all, y_all = np.asarray(features1, np.float64), np.asarray(features2, np.float64)
    dim = x_all.shape[1]
    m = min(len(x_all), len(y_all), max_subset_size)
    if m < 2:
        raise ValueError("KID needs at least two samples in each set")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(num_subsets):
        x = x_all[rng.choice(len(x_all), m, replace=False)]
        y = y_all[rng.choice(len(y_all), m, replace=False)]
        k_xx = (x @ x.T / dim + 1) ** 3
        k_yy = (y @ y.T / dim + 1) ** 3
        k_xy = (x @ y.T / dim + 1) ** 3
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        values.append(within - 2 * k_xy.sum() / (m * m))
    return float(np.mean(values)), float(np.std(values))


def torchscript_extractor(path: Path | str, *, device: str = "cpu", batch_size: int = 64) -> FeatureExtractor:
    """A feature extractor from a TorchScript file following the StyleGAN detector convention."""
    with warnings.catch_warnings():
        # TorchScript is deprecated, but the published Inception weights exist only in that form.
        warnings.simplefilter("ignore", DeprecationWarning)
        model = torch.jit.load(str(path), map_location=device).eval()

    @torch.no_grad()
    def extract(images: np.ndarray) -> np.ndarray:
        chunks = []
        for start in range(0, len(images), batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(images[start : start + batch_size]))
            batch = batch.permute(0, 3, 1, 2).to(device)  # [B, 3, H, W] uint8
            chunks.append(model(batch, return_features=True).float().cpu().numpy())
        return np.concatenate(chunks)

    return extract


def inception_extractor(weights_path: Path | str | None = None) -> FeatureExtractor | str:
    """The InceptionV3 extractor, or a string saying why it is unavailable."""
    path = weights_path or os.environ.get(INCEPTION_WEIGHTS_ENV)
    if not path:
        return f"no InceptionV3 weights configured (set {INCEPTION_WEIGHTS_ENV} to inception-2015-12-05.pt)"
    if not Path(path).is_file():
        return f"InceptionV3 weights not found at {path}"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        return torchscript_extractor(path, device=device)
    except (RuntimeError, OSError, ValueError) as error:
        return f"cannot load InceptionV3 weights from {path}: {error}"


def compute_metrics(
    *,
    real_images: np.ndarray,
    fake_images: np.ndarray,
    extractor: FeatureExtractor | None = None,
    weights_path: Path | str | None = None,
    kid_subsets: int = 100,
) -> MetricResult:
    """FID and KID between uint8 image sets [N, H, W, 3]; InceptionV3 unless `extractor` is given."""
    counts = {"num_real": len(real_images), "num_fake": len(fake_images)}
    if extractor is None:
        found = inception_extractor(weights_path)
        if isinstance(found, str):
            return MetricResult(available=False, reason=found, **counts)
        extractor = found
    if min(len(real_images), len(fake_images)) < 2:
        return MetricResult(available=False, reason="each image set needs at least two images", **counts)
    real_features, fake_features = extractor(real_images), extractor(fake_images)
    fid = frechet_distance(*feature_statistics(real_features), *feature_statistics(fake_features))
    kid, kid_std = kernel_distance(real_features, fake_features, num_subsets=kid_subsets)
    return MetricResult(available=True, fid=fid, kid=kid, kid_std=kid_std, **counts)
