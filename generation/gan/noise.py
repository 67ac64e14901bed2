"""The one definition of latents: any image is regenerated bit-for-bit from (seed, truncation, class).

A seed's latent is `numpy.random.default_rng(seed).standard_normal(latent_dim)` (PCG64, float64, then cast
to float32), so it depends on nothing but the seed and the latent size.

Truncation is psi-scaling toward the prior's mean (StyleGAN's truncation trick):
`z' = mean + psi * (z - mean)`. Our generators take z ~ N(0, I) directly (no mapping network), so the mean
is 0 and `z' = psi * z`; psi = 1 leaves z untouched, smaller psi trades variety for typicality. Unlike
truncated-normal resampling, scaling keeps one latent per seed for every psi, so a psi slider moves an image
smoothly instead of swapping it for another.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# The one seed bound, for training runs and images alike. Training seeds numpy's legacy generator
# (`np.random.seed`, which refuses 2**32 and up); image seeds travel as JSON numbers, which browsers read as
# doubles (exact only below 2**53), and land in signed 64-bit columns. 2**32 - 1 is true for every one of them.
MAX_SEED = 2**32 - 1


def latents_for_seeds(seeds: Sequence[int], latent_dim: int, truncation: float = 1.0) -> np.ndarray:
    """[len(seeds), latent_dim] float32, row i drawn from seeds[i] alone."""
    _check_truncation(truncation)
    rows = np.empty((len(seeds), latent_dim), dtype=np.float32)
    for row, seed in enumerate(seeds):
        seed = int(seed)
        if seed < 0:  # no upper bound here: images made before MAX_SEED narrowed (2**63 - 1) still regenerate
            raise ValueError(f"a seed is 0 or more, got {seed}")
        rows[row] = np.random.default_rng(seed).standard_normal(latent_dim)
    return rows * np.float32(truncation)


def interpolate(seed_a: int, seed_b: int, steps: int, *, latent_dim: int, truncation: float = 1.0) -> np.ndarray:
    """[steps, latent_dim] float32: slerp from seed_a's latent to seed_b's, both ends included."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    a, b = latents_for_seeds([seed_a, seed_b], latent_dim).astype(np.float64)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    cos_omega = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    omega = np.arccos(np.clip(cos_omega, -1.0, 1.0))
    if np.sin(omega) < 1e-6:  # (anti)parallel: slerp is undefined, lerp is what it tends to
        path = (1 - t) * a + t * b
    else:
        path = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
    path[0], path[-1] = a, b  # the ends are exactly the seeds' own latents
    _check_truncation(truncation)
    return path.astype(np.float32) * np.float32(truncation)  # the same arithmetic as latents_for_seeds


def to_uint8_images(images: np.ndarray) -> np.ndarray:
    """Generator output [N, 3, H, W] float in [-1, 1] -> [N, H, W, 3] uint8 (round half to even)."""
    scaled = np.rint((np.asarray(images, dtype=np.float32) + 1.0) * 127.5)
    return np.ascontiguousarray(np.clip(scaled, 0, 255).astype(np.uint8).transpose(0, 2, 3, 1))


def _check_truncation(truncation: float) -> None:
    if not 0.0 <= truncation <= 1.0:
        raise ValueError(f"truncation must be between 0 and 1, got {truncation}")
