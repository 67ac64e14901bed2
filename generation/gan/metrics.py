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


# ---- diversity ---------------------------------------------------------------------------------------------

RANDOM_FEATURES_SEED = 20_210_104
RANDOM_FEATURES_SIDE = 64


def mean_pairwise_distance(features: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs of distinct rows of [N, D] (0 for fewer than two rows)."""
    x = np.asarray(features, dtype=np.float64)
    if len(x) < 2:
        return 0.0
    squared = (x * x).sum(axis=1)
    distances = np.sqrt(np.clip(squared[:, None] + squared[None, :] - 2 * x @ x.T, 0, None))
    return float(distances[np.triu_indices(len(x), k=1)].mean())


def diversity(features: np.ndarray, labels: np.ndarray | None = None) -> dict[str, float | dict[int, float]]:
    """Overall mean pairwise distance, and (with labels) the mean over classes of the within-class one."""
    result: dict[str, float | dict[int, float]] = {"overall": mean_pairwise_distance(features)}
    if labels is not None:
        labels = np.asarray(labels)
        per_class = {
            int(label): mean_pairwise_distance(features[labels == label])
            for label in np.unique(labels)
            if (labels == label).sum() >= 2
        }
        result["per_class"] = per_class
        result["intra_class"] = float(np.mean(list(per_class.values()))) if per_class else 0.0
    return result


def diversity_report(
    *,
    real_features: np.ndarray,
    fake_features: np.ndarray,
    real_labels: np.ndarray | None = None,
    fake_labels: np.ndarray | None = None,
) -> dict[str, float | None]:
    """Samples' diversity against the data's, in any feature space (features [N, D], labels [N]).

    `overall_ratio` = mean pairwise distance of the samples / that of the data: ~1 is as varied as the data,
    well below 1 is mode collapse (a ratio far above 1 is noise). With labels, `intra_class_ratio` does the
    same within classes (averaged over classes), and `min_class_ratio` names the most collapsed class's."""
    real = diversity(real_features, real_labels)
    fake = diversity(fake_features, fake_labels)
    report: dict[str, float | None] = {
        "data_overall": real["overall"],
        "samples_overall": fake["overall"],
        "overall_ratio": _ratio(fake["overall"], real["overall"]),
        "data_intra_class": None,
        "samples_intra_class": None,
        "intra_class_ratio": None,
        "min_class_ratio": None,
    }
    if real_labels is not None and fake_labels is not None:
        report["data_intra_class"] = real["intra_class"]
        report["samples_intra_class"] = fake["intra_class"]
        report["intra_class_ratio"] = _ratio(fake["intra_class"], real["intra_class"])
        ratios = [
            _ratio(value, real["per_class"][label])
            for label, value in fake["per_class"].items()
            if label in real["per_class"]
        ]
        ratios = [ratio for ratio in ratios if ratio is not None]
        report["min_class_ratio"] = min(ratios) if ratios else None
    return report


def class_fidelity(
    *, real_features: np.ndarray, real_labels: np.ndarray, fake_features: np.ndarray, fake_labels: np.ndarray
) -> dict[str, float]:
    """Does a conditional model draw the class it is asked for? A nearest-class-mean classifier in these
    features: `samples` is the share of samples nearest their own class's mean of the reals; `data` the same
    for every other real image against the means of the rest (its ceiling in this feature space). Chance is
    1 / classes."""
    classes = np.unique(real_labels)
    held_out = np.arange(len(real_labels)) % 2 == 1

    def accuracy(means_of: np.ndarray, features: np.ndarray, labels: np.ndarray) -> float:
        means = np.stack([real_features[means_of & (real_labels == c)].mean(axis=0) for c in classes])
        nearest = classes[np.argmin(((features[:, None, :] - means[None]) ** 2).sum(axis=-1), axis=1)]
        return float((nearest == labels).mean())

    return {
        "samples": accuracy(np.ones(len(real_labels), dtype=bool), fake_features, fake_labels),
        "data": accuracy(~held_out, real_features[held_out], real_labels[held_out]),
        "chance": 1.0 / len(classes),
    }


def _ratio(a: float, b: float) -> float | None:
    return float(a / b) if b > 0 else None


def random_features_extractor(*, device: str = "cpu", batch_size: int = 128) -> FeatureExtractor:
    """Features of a fixed, randomly initialised conv net (seeded; nothing trained, nothing downloaded).

    Random conv features are a serviceable perceptual space for *comparing* two image sets by the same
    network (they respond to edges, colours and textures at several scales), enough to see collapse; they
    are not InceptionV3 and their numbers are not FID-comparable across papers. Images are resized to 64x64;
    the features are per-channel means and standard deviations of four conv stages (3 -> 32 -> 64 -> 128 ->
    256, stride 2), scaled to unit variance per stage so no stage dominates."""
    generator = torch.Generator().manual_seed(RANDOM_FEATURES_SEED)
    widths = (3, 32, 64, 128, 256)
    weights = [
        torch.randn(c_out, c_in, 3, 3, generator=generator) * (2.0 / (9 * c_in)) ** 0.5
        for c_in, c_out in zip(widths, widths[1:], strict=False)
    ]
    weights = [w.to(device) for w in weights]

    @torch.no_grad()
    def extract(images: np.ndarray) -> np.ndarray:
        chunks = []
        for start in range(0, len(images), batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(images[start : start + batch_size])).to(device)
            x = batch.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)  # [B, 3, H, W] in [-1, 1]
            x = torch.nn.functional.interpolate(
                x, size=(RANDOM_FEATURES_SIDE, RANDOM_FEATURES_SIDE), mode="bilinear", antialias=True
            )
            parts = []
            for weight in weights:
                x = torch.nn.functional.leaky_relu(torch.nn.functional.conv2d(x, weight, stride=2, padding=1), 0.2)
                stats = torch.cat([x.mean(dim=(2, 3)), x.std(dim=(2, 3))], dim=1)
                parts.append(stats / (stats.shape[1] ** 0.5))
            chunks.append(torch.cat(parts, dim=1).cpu().numpy())
        return np.concatenate(chunks) if chunks else np.zeros((0, 2 * sum(widths[1:])), dtype=np.float32)

    return extract


def diversity_metrics(
    *,
    real_images: np.ndarray,
    fake_images: np.ndarray,
    real_labels: np.ndarray | None = None,
    fake_labels: np.ndarray | None = None,
    extractor: FeatureExtractor | None = None,
) -> dict[str, float | None]:
    """`diversity_report` of uint8 image sets [N, H, W, 3], in `extractor`'s features (default: the
    random-features network, which needs no download)."""
    extractor = extractor or random_features_extractor()
    return diversity_report(
        real_features=extractor(real_images),
        fake_features=extractor(fake_images),
        real_labels=real_labels,
        fake_labels=fake_labels,
    )
