"""DiffAugment (Zhao et al., 2020): differentiable augmentations applied to real and fake images alike.

Every random draw comes from the caller's `torch.Generator` (on the CPU, so a run is reproducible and its
state checkpointable whatever device the images live on); the draws are then moved to the images' device.
Images are [N, C, H, W] in [-1, 1]; every op keeps the shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5
Shard = tuple[int, int]  # (offset of these rows, the global batch size) when a batch is split over processes


def diff_augment(
    images: torch.Tensor,
    *,
    ops: Sequence[str],
    generator: torch.Generator,
    p: float | None = None,
    shard: Shard | None = None,
) -> torch.Tensor:
    """Every op on every image (`p=None`, DiffAugment as published), or each op on each image with
    probability `p` (ADA's scheme, Karras et al. 2020, over DiffAugment's differentiable ops). At p = 0 nothing
    is drawn; otherwise the draws do not depend on p, so a run's random stream is the same whatever p does.
    With `shard` (offset, global batch), `images` are rows offset.. of a larger batch split over processes:
    every draw is made for the whole batch and this shard's rows are kept, so N processes augment exactly as
    one process would, and their generators stay in step."""
    if p is not None and p <= 0.0:
        return images
    for op in ops:
        augmented = AUGMENTATIONS[op](images, generator, shard)
        if p is None:
            images = augmented
        else:
            chosen = _uniform((images.shape[0], 1, 1, 1), generator, images, shard) < p
            images = torch.where(chosen, augmented, images)
    return images


class AdaptiveProbability:
    """ADA's controller: p follows r_t = E[sign(D(real))] toward `target`.

    Every `interval` steps, p moves by sign(r_t - target) * (images seen since) / `speed_images`, clipped to
    [0, 1]: while D is sure of most reals (r_t above target: it is memorising them) augmentation increases,
    when it is not it decreases. StyleGAN2-ADA: target 0.6, 500k images for 0 -> 1; our runs see tens of
    thousands of images in total, so the speed is a config field. The signal accumulates on the device and is
    read back once per interval (one sync)."""

    def __init__(self, *, target: float, interval: int, speed_images: int, batch_size: int) -> None:
        self.target, self.interval, self.speed_images = target, interval, speed_images
        self.batch_size = batch_size
        self.p = 0.0
        self.signal: float | None = None  # the last r_t
        self._sum: torch.Tensor | None = None
        self._count = 0
        self._steps = 0
        # under several processes: sums a tensor over the ranks (each observes only its rows of the batch)
        self.reduce: Callable[[torch.Tensor], torch.Tensor] | None = None

    def observe(self, real_logits: torch.Tensor) -> None:
        signs = torch.sign(real_logits.detach().float()).sum()
        self._sum = signs if self._sum is None else self._sum + signs
        self._count += real_logits.numel()
        self._steps += 1
        if self._steps >= self.interval:
            self.update()

    def update(self) -> None:
        total, count = self._pending()
        if not count:
            return
        self.signal = total / count
        step = self._steps * self.batch_size / self.speed_images
        direction = 1.0 if self.signal > self.target else -1.0 if self.signal < self.target else 0.0
        self.p = min(1.0, max(0.0, self.p + direction * step))
        self._sum, self._count, self._steps = None, 0, 0

    def _pending(self) -> tuple[float, int]:
        """(sum of signs, count) observed since the last update, over every rank."""
        total = torch.zeros((), dtype=torch.float64) if self._sum is None else self._sum.detach().double()
        if self.reduce is None:
            return float(total), self._count
        pair = torch.stack([total, torch.tensor(float(self._count), dtype=torch.float64, device=total.device)])
        pair = self.reduce(pair)
        return float(pair[0]), int(pair[1])

    def drop_pending(self) -> None:
        self._sum, self._count = None, 0

    def state_dict(self) -> dict[str, object]:
        pending, count = self._pending()
        return {"p": self.p, "signal": self.signal, "sum": pending, "count": count, "steps": self._steps}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.p = float(state["p"])
        self.signal = None if state["signal"] is None else float(state["signal"])
        self._count, self._steps = int(state["count"]), int(state["steps"])
        self._sum = torch.tensor(float(state["sum"])) if self._count else None


def _uniform(
    shape: tuple[int, ...], generator: torch.Generator, like: torch.Tensor, shard: Shard | None = None
) -> torch.Tensor:
    if shard is not None:
        shape = (shard[1], *shape[1:])
    draws = torch.rand(shape, generator=generator, device=generator.device, dtype=torch.float32)
    draws = _rows(draws, shape[0] if shard is None else len(like), shard)
    return draws.to(device=like.device, dtype=like.dtype, non_blocking=True)


def _integers(
    low: int, high: int, n: int, generator: torch.Generator, like: torch.Tensor, shard: Shard | None = None
) -> torch.Tensor:
    draws = torch.randint(low, high, (n if shard is None else shard[1],), generator=generator, device=generator.device)
    return _rows(draws, n, shard).to(device=like.device, non_blocking=True)


def _rows(draws: torch.Tensor, n: int, shard: Shard | None) -> torch.Tensor:
    return draws if shard is None else draws[shard[0] : shard[0] + n]


def color(x: torch.Tensor, generator: torch.Generator, shard: Shard | None = None) -> torch.Tensor:
    n = x.shape[0]
    brightness, saturation, contrast = (_uniform((n, 1, 1, 1), generator, x, shard) for _ in range(3))
    x = x + (brightness - 0.5)
    mean = x.mean(dim=1, keepdim=True)  # [N, 1, H, W]
    x = (x - mean) * (saturation * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # [N, 1, 1, 1]
    return (x - mean) * (contrast + 0.5) + mean


def translation(x: torch.Tensor, generator: torch.Generator, shard: Shard | None = None) -> torch.Tensor:
    """Shift each image by up to 1/8 of its size, filling with zeros (mid-grey)."""
    n, c, h, w = x.shape
    shift_h, shift_w = int(h * TRANSLATION_RATIO + 0.5), int(w * TRANSLATION_RATIO + 0.5)
    dy = _integers(-shift_h, shift_h + 1, n, generator, x, shard)
    dx = _integers(-shift_w, shift_w + 1, n, generator, x, shard)
    padded = F.pad(x, [1, 1, 1, 1])  # [N, C, H+2, W+2]; the zero border is what out-of-range reads hit
    rows = (torch.arange(h, device=x.device)[None, :] + dy[:, None] + 1).clamp(0, h + 1)  # [N, H]
    cols = (torch.arange(w, device=x.device)[None, :] + dx[:, None] + 1).clamp(0, w + 1)  # [N, W]
    x = torch.gather(padded, 2, rows[:, None, :, None].expand(n, c, h, w + 2))  # [N, C, H, W+2]
    return torch.gather(x, 3, cols[:, None, None, :].expand(n, c, h, w))  # [N, C, H, W]


def cutout(x: torch.Tensor, generator: torch.Generator, shard: Shard | None = None) -> torch.Tensor:
    """Zero one square of half the image size per image, centred anywhere in the image."""
    n, _, h, w = x.shape
    size_h, size_w = int(h * CUTOUT_RATIO + 0.5), int(w * CUTOUT_RATIO + 0.5)
    top = _integers(0, h + (1 - size_h % 2), n, generator, x, shard) - size_h // 2
    left = _integers(0, w + (1 - size_w % 2), n, generator, x, shard) - size_w // 2
    ys = torch.arange(h, device=x.device)[None, :]
    xs = torch.arange(w, device=x.device)[None, :]
    in_rows = (ys >= top[:, None]) & (ys < top[:, None] + size_h)  # [N, H]
    in_cols = (xs >= left[:, None]) & (xs < left[:, None] + size_w)  # [N, W]
    keep = ~(in_rows[:, :, None] & in_cols[:, None, :])  # [N, H, W]
    return x * keep[:, None].to(x.dtype)


AUGMENTATIONS: dict[str, Callable[[torch.Tensor, torch.Generator, Shard | None], torch.Tensor]] = {
    "color": color,
    "translation": translation,
    "cutout": cutout,
}
