"""Is an image set a periodic pattern (stripes, checks, plaids, weaves, dots on a grid)?

The planner asks because such sets train far better with the generator's periodic maps
(`GANConfig.periodic_channels`, PSGAN's plane waves) and other sets train worse with them (bench.quality,
DESIGN.md). The score of one image is how far its autocorrelation rises again away from the origin: the
largest A(s) - A(s/2) over shifts s of 2 px to half the image, A the mean-removed, overlap-normalised linear
autocorrelation of the grey image, 1 at s = 0. A pattern of period s has A(s) near 1 and A(s/2) low or
negative (up to 2 for two-colour stripes); a picture's autocorrelation falls away from the origin and never
climbs back, so its rise stays near 0 even along directions where it falls slowly (a sky's horizontal
gradient). A pattern must repeat within half the image to count. Measured medians: procedural textiles
1.66-1.77, landscapes 0.00, glyphs 0.15, the probe set's digits and other kinds -0.02-0.27, concentric rings
0.64-0.70. The set's score is the median over (up to) `SAMPLE` images.
"""

from __future__ import annotations

import numpy as np
import torch

PERIODIC_THRESHOLD = 1.0  # a set whose median rise reaches this is planned with periodic maps
SAMPLE = 64  # images scored (evenly spaced through the set): the median is stable well before this
SCORED_SIDE = 64  # larger images are area-downsampled to this first (the shift loop grows with side^2)


def image_periodicity(images: np.ndarray) -> np.ndarray:
    """The rise of each image's autocorrelation; images [N, 3, R, R] (or [N, R, R, 3]) uint8 -> [N]."""
    if images.ndim != 4 or 3 not in (images.shape[1], images.shape[-1]):
        raise ValueError(f"images must be [N, 3, R, R] or [N, R, R, 3], got {list(images.shape)}")
    grey = images.astype(np.float64).mean(axis=1 if images.shape[1] == 3 else -1)  # [N, R, R]
    grey -= grey.mean(axis=(1, 2), keepdims=True)
    side = grey.shape[1]
    padded = 2 * side  # zero padding: the linear autocorrelation, not the circular one
    power = np.abs(np.fft.rfft2(grey, s=(padded, padded))) ** 2
    sums = np.fft.irfft2(power, s=(padded, padded))  # [N, 2R, 2R]: sum over the overlap at each shift
    ones = np.abs(np.fft.rfft2(np.ones((side, side)), s=(padded, padded))) ** 2
    overlap = np.maximum(np.rint(np.fft.irfft2(ones, s=(padded, padded))), 1.0)
    correlation = sums / overlap[None]
    correlation /= np.maximum(correlation[:, :1, :1], 1e-9)  # A(0) = 1 (a flat image stays all 0)
    half = side // 2
    rise = np.full(grey.shape[0], -np.inf)
    for dy in range(-half, half + 1):
        for dx in range(0, half + 1):
            if dy * dy + dx * dx < 4 or (dx == 0 and dy < 0):  # A(-s) = A(s): one of each pair
                continue
            midpoint = correlation[:, round(dy / 2) % padded, round(dx / 2) % padded]
            rise = np.maximum(rise, correlation[:, dy % padded, dx % padded] - midpoint)
    return rise


def sample_indices(count: int) -> list[int]:
    """Which of `count` images a set is scored on: all of them up to SAMPLE, else SAMPLE spread evenly."""
    return np.unique(np.linspace(0, count - 1, min(SAMPLE, count)).round().astype(int)).tolist() if count else []


def dataset_periodicity(images: torch.Tensor | np.ndarray) -> float:
    """The set's score: the median rise over up to SAMPLE images spread evenly through it."""
    array = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if len(array) == 0:
        return 0.0
    chosen = array[sample_indices(len(array))]
    if chosen.shape[-1] == 3 and chosen.shape[1] != 3:
        chosen = chosen.transpose(0, 3, 1, 2)  # -> [N, 3, R, R]
    if chosen.shape[-1] > SCORED_SIDE:
        small = torch.nn.functional.interpolate(torch.from_numpy(chosen).float(), size=SCORED_SIDE, mode="area")
        chosen = small.round().clamp(0, 255).to(torch.uint8).numpy()
    return float(np.median(image_periodicity(chosen)))


def is_periodic(score: float | None) -> bool:
    return score is not None and score >= PERIODIC_THRESHOLD
