"""The training loop: G, D and an EMA copy of G, checkpointed with every RNG state so a resume is exact.

One step (DCGAN recipe): draw a real batch and z; fake = G(z); D step on real vs fake.detach(); G step through
D with D's weights frozen (their gradients would be thrown away); EMA update of G. DiffAugment, when on, is
applied to every image D sees, real or fake; with `ada`, each op applies with a probability p that ADA's
controller moves after D's overfitting signal (generation.gan.augment.AdaptiveProbability). On top, per config:
the relativistic pairing loss, lazy R1/R2 penalties, FastGAN's reconstruction loss for D, a fade-in of the
class conditioning, bf16 autocast + channels-last on CUDA, torch.compile, and a time budget.

Randomness comes from three CPU `torch.Generator`s seeded from `config.seed` (data order and flips, augment,
noise), plus the global torch RNG (weight init, spectral-norm vectors). All of them, python's and numpy's
global states too, are saved in checkpoints.

With a `World` (several processes under torchrun; generation.gan.distributed), G and D train through
DistributedDataParallel, each rank on its rows of the global batch; every rank calls the same collectives in
the same order (losses at reports, checkpoints, stop decisions), only rank 0 writes files.
"""

from __future__ import annotations

import contextlib
import copy
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from generation.gan.augment import AdaptiveProbability, diff_augment
from generation.gan.checkpoint import (
    CHECKPOINT_FORMAT,
    LoadedGenerator,
    capture_rng_states,
    load_checkpoint,
    load_generator,
    restore_rng_states,
)
from generation.gan.config import ConfigError, GANConfig
from generation.gan.data import BatchSampler, PreparedDataset
from generation.gan.distributed import (
    World,
    agree,
    all_reduce_mean,
    all_reduce_sum,
    average_gradients,
    global_batch_norm,
)
from generation.gan.files import atomic_torch_save
from generation.gan.losses import (
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    mode_seeking_loss,
    reconstruction_loss,
)
from generation.gan.networks import build_discriminator, build_generator
from generation.gan.noise import latents_for_seeds, to_uint8_images
from generation.gan.visuals import image_grid, loss_curve, save_png

RESUMABLE_CHANGES = frozenset({"steps", "log_every", "checkpoint_every", "sample_every", "budget_minutes"})
LOSS_NAMES = ("d_loss", "g_loss")
# half-life of the EMA <= this fraction of the steps so far (StyleGAN2-ADA uses 0.05 of its images; measured
# on bench.quality's 2-minute runs: 0.02 is as good as the live G, 0.05 and the old (1+s)/(10+s) ramp worse)
EMA_RAMPUP = GANConfig.__dataclass_fields__["ema_rampup"].default  # the config's default (stored configs)
RECALIBRATION_IMAGES = 256  # samples the EMA generator's batch-norm statistics are re-estimated from
RECALIBRATION_BATCH = 64
__all__ = [  # checkpoint helpers are re-exported: callers think of them as the trainer's
    "CHECKPOINT_FORMAT",
    "RESUMABLE_CHANGES",
    "LoadedGenerator",
    "Progress",
    "TrainResult",
    "Trainer",
    "default_device",
    "load_checkpoint",
    "load_generator",
]


@dataclass(frozen=True)
class Progress:
    step: int
    total_steps: int
    losses: dict[str, float]  # means over the steps since the previous report
    images_per_second: float
    eta_seconds: float | None
    sample_grid_path: Path | None  # the latest grid written, if any
    loss_curve_path: Path | None
    checkpoint_path: Path | None
    augment_p: float | None = None  # ADA's current augmentation probability (None without ADA)
    ada_signal: float | None = None  # ADA's last r_t = E[sign(D(real))]
    elapsed_seconds: float = 0.0  # training time of the run so far, over every resume


@dataclass(frozen=True)
class TrainResult:
    step: int
    total_steps: int
    reason: str  # "completed", "cancelled" (should_stop), "time_limit" or "paused" (max_steps)
    checkpoint_path: Path | None
    sample_grid_path: Path | None
    loss_curve_path: Path | None
    losses: dict[str, float] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        return self.reason == "completed"


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def stream_seed(seed: int, stream: int) -> int:
    return seed * 8 + stream


class Trainer:
    def __init__(
        self,
        *,
        config: GANConfig,
        dataset: PreparedDataset,
        device: str | torch.device | None = None,
        out_dir: Path | None = None,
        world: World | None = None,
    ) -> None:
        _check_dataset_fits(config, dataset)
        if world is not None and config.batch_size % world.size:
            raise ConfigError("batch_size", f"must split evenly over {world.size} processes")
        self.config = config
        self.world = world
        # this rank's rows of every global batch: (offset, global size) for the augment draws
        self.shard = None if world is None else (world.shard(config.batch_size)[0], config.batch_size)
        self.device = torch.device(device) if device is not None else default_device()
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.dataset_hash = dataset.dataset_hash
        self.class_names = dataset.class_names
        random.seed(config.seed)
        np.random.seed(config.seed)
        torch.manual_seed(config.seed)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels once

        # oneDNN's CPU convolutions run ~13% faster on channels-last tensors (no layout reorders per call), and
        # cuDNN's bf16 tensor-core kernels want NHWC too
        self.memory_format = torch.channels_last
        self.autocast = self.device.type == "cuda" and config.mixed_precision
        self.generator = build_generator(config).to(self.device, memory_format=self.memory_format)
        self.discriminator = build_discriminator(config).to(self.device, memory_format=self.memory_format)
        self.generator_ema = copy.deepcopy(self.generator).eval().requires_grad_(False)
        self._g_forward, self._d_forward = self.generator, self.discriminator
        if world is not None:
            global_batch_norm(self.generator, self.device)
            global_batch_norm(self.discriminator, self.device)
        if config.compile:
            self._g_forward = torch.compile(self.generator)
            self._d_forward = torch.compile(self.discriminator)
        self._g_train, self._d_train = self._g_forward, self._d_forward  # what the D step's forwards go through
        if world is not None:
            # Buffers are not broadcast: global batch norm gives every rank the same running statistics and
            # identical weights give the same spectral-norm vectors, so rank 0's copy would change nothing.
            # G's and D's steps take separate wrappers: the G step runs D's module itself (D's weights are
            # frozen there, and a DDP forward would wait for D gradients that never come).
            ids = [self.device.index] if self.device.type == "cuda" else None
            ddp = torch.nn.parallel.DistributedDataParallel
            self._g_train = ddp(self.generator, device_ids=ids, forward_sync_buffers=False)
            self._d_train = ddp(self.discriminator, device_ids=ids, forward_sync_buffers=False)
            if config.compile:
                self._g_train, self._d_train = torch.compile(self._g_train), torch.compile(self._d_train)
        self.reconstructs = config.arch == "fastgan" and config.recon_weight > 0
        self.ada = (
            AdaptiveProbability(
                target=config.ada_target,
                interval=config.ada_interval,
                speed_images=config.ada_speed_images,
                batch_size=config.batch_size,
            )
            if config.ada and config.augment_ops
            else None
        )
        if self.ada is not None and world is not None:
            self.ada.reduce = lambda pair: all_reduce_sum(pair.to(self.device)).cpu()
        self.elapsed_seconds = 0.0  # training time over every resume: what budget_minutes counts
        self.loss_names = LOSS_NAMES + (("recon_loss",) if self.reconstructs else ())
        betas = (config.beta1, config.beta2)
        self.optimizer_g = torch.optim.Adam(self.generator.parameters(), lr=config.lr_g, betas=betas)
        self.optimizer_d = torch.optim.Adam(self.discriminator.parameters(), lr=config.lr_d, betas=betas)
        self.data_rng = torch.Generator().manual_seed(stream_seed(config.seed, 1))
        self.augment_rng = torch.Generator().manual_seed(stream_seed(config.seed, 2))
        self.noise_rng = torch.Generator().manual_seed(stream_seed(config.seed, 3))
        self.sampler = BatchSampler(num_items=dataset.num_images, batch_size=config.batch_size, generator=self.data_rng)
        self.images = dataset.images.to(self.device)  # [N, 3, R, R] uint8, converted a batch at a time
        self.labels = dataset.labels.to(self.device)
        self.step = 0
        self.history: dict[str, list[float]] = {name: [] for name in self.loss_names}
        self._pending_losses: list[torch.Tensor] = []  # [losses] per step, read back in one sync per report
        self._ema_params = list(self.generator_ema.parameters())
        self._g_params = list(self.generator.parameters())
        self._ema_buffers = list(self.generator_ema.buffers())
        self._g_buffers = list(self.generator.buffers())
        self._ema_norms = [m for m in self.generator_ema.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        self._recalibrated_at: int | None = None  # the step the EMA's batch-norm statistics were computed at
        self.sample_grid_path: Path | None = None
        self.loss_curve_path: Path | None = None

    # ---- one step -------------------------------------------------------------------------------------

    def train_step(self) -> None:
        config = self.config
        indices = self._local(self.sampler.next_batch())  # [B] of the global batch -> this rank's [b]
        flips = self._local(torch.rand(config.batch_size, generator=self.data_rng) < 0.5) if config.mirror else None
        indices = indices.to(self.device, non_blocking=True)
        real = self.images.index_select(0, indices).contiguous(memory_format=self.memory_format)
        real = real.float().div_(127.5).sub_(1.0)  # [B, 3, R, R] in [-1, 1]
        if flips is not None:
            real = torch.where(flips.to(self.device)[:, None, None, None], real.flip(3), real)
        real_labels = self.labels.index_select(0, indices) if config.conditional else None
        z = self._local(torch.randn(config.batch_size, config.latent_dim, generator=self.noise_rng)).to(self.device)
        fake_labels = None
        if config.conditional:
            fake_labels = torch.randint(config.num_classes, (config.batch_size,), generator=self.noise_rng)
            fake_labels = self._local(fake_labels).to(self.device)
            if config.mode_seeking > 0:  # MSGAN pairs latents under one class: the last n take the first n's
                half = fake_labels.shape[0] // 2
                fake_labels = torch.cat([fake_labels[: fake_labels.shape[0] - half], fake_labels[:half]])
            self._set_conditioning()
        regularize = config.r1_gamma > 0 and self.step % config.reg_every == 0
        # no double backward through compiled graphs, nor through DDP's reducer (gradients averaged by hand)
        discriminator = self.discriminator if regularize else self._d_train

        with self._autocast():
            fake = self._g_train(z, fake_labels)  # [b, 3, R, R]
            real_in = self._augment(real).detach().requires_grad_(regularize)
            fake_in = self._augment(fake.detach()).detach().requires_grad_(regularize)
            recon_loss = None
            if self.reconstructs:
                real_logits, recon = discriminator(real_in, real_labels, reconstruct=True)
                recon_loss = reconstruction_loss(recon, real_in.detach())
            else:
                real_logits = discriminator(real_in, real_labels)
            fake_logits = discriminator(fake_in, fake_labels)
            loss_d = discriminator_loss(config.loss, real_logits.float(), fake_logits.float())
            if recon_loss is not None:
                loss_d = loss_d + config.recon_weight * recon_loss
            if regularize:
                # lazy R1 (reals) and R2 (fakes), scaled by reg_every to keep their strength (StyleGAN2)
                penalty = gradient_penalty(real_logits, real_in) + gradient_penalty(fake_logits, fake_in)
                loss_d = loss_d + (config.r1_gamma / 2) * config.reg_every * penalty
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        if regularize and self.world is not None:
            average_gradients(self.discriminator, self.world)
        self.optimizer_d.step()
        if self.ada is not None:
            self.ada.observe(real_logits)

        self.discriminator.requires_grad_(False)
        with self._autocast():
            fake_logits = self._d_forward(self._augment(fake), fake_labels).float()
            reference = None
            if config.loss == "rpgan":
                with torch.no_grad():
                    reference = self._d_forward(real_in.detach(), real_labels).float()
            loss_g = generator_loss(config.loss, fake_logits, reference)
            if config.mode_seeking > 0:
                loss_g = loss_g + config.mode_seeking * mode_seeking_loss(fake, z)
        self.optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimizer_g.step()
        self.discriminator.requires_grad_(True)

        self._update_ema()
        self.step += 1
        values = [loss_d.detach().float(), loss_g.detach().float()]
        if self.reconstructs:
            values.append(recon_loss.detach().float())
        self._pending_losses.append(torch.stack(values))

    def _augment(self, images: torch.Tensor) -> torch.Tensor:
        ops = self.config.augment_ops
        if not ops:
            return images
        p = None if self.ada is None else self.ada.p
        return diff_augment(images, ops=ops, generator=self.augment_rng, p=p, shard=self.shard)

    def _local(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's rows of a tensor drawn for the global batch (all of it in one process)."""
        if self.world is None:
            return batch
        offset, length = self.world.shard(self.config.batch_size)
        return batch[offset : offset + length]

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.autocast:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def conditioning_weight(self, step: int | None = None) -> float:
        """How much of the class conditioning is on at `step` (default: now): ramps 0 -> 1 linearly over
        `cond_transition_steps` (Shahbazi et al., 2022: conditioning from the start makes a small conditional
        set collapse; an unconditional start learns the shared structure from every image first)."""
        return self.config.conditioning_at(self.step if step is None else step)

    def _set_conditioning(self, step: int | None = None) -> None:
        weight = self.conditioning_weight(step)
        for module in (self.generator, self.discriminator):
            module.conditioning.fill_(weight)

    @torch.no_grad()
    def _update_ema(self) -> None:
        # StyleGAN2-ADA's ramp-up: the EMA's half-life is at most ema_rampup of the steps so far, so early on
        # (when G moves fast) it averages only the last few G's; ema_decay caps it in long runs.
        decay = self.config.ema_decay
        if self.config.ema_rampup > 0:
            decay = min(decay, 0.5 ** (1.0 / max(1.0, self.config.ema_rampup * (self.step + 1))))
        torch._foreach_lerp_(self._ema_params, self._g_params, 1.0 - decay)
        self._update_ema_buffers()

    @torch.no_grad()
    def _update_ema_buffers(self) -> None:
        torch._foreach_copy_(self._ema_buffers, self._g_buffers)  # batch-norm statistics, conditioning

    @torch.no_grad()
    def recalibrate_ema(self) -> None:
        """Recompute the EMA generator's batch-norm statistics for its own weights.

        Every step copies the live G's running statistics into the EMA copy, but they are the statistics of
        G's activations, not of the averaged weights': in eval mode (what is exported) the mismatch costs
        quality, most in short runs where G moves fast (bench.quality: KID 4.4 -> 3.5 on one 2-minute run).
        So before anything reads the EMA (checkpoint, sample grid, export) its statistics are re-estimated
        from RECALIBRATION_IMAGES of its own samples (cumulative average, no momentum), drawn from a private
        generator seeded from the config: deterministic, and no training RNG moves, so resumes stay exact.
        The next step's copy overwrites them again; training never reads them."""
        if self._recalibrated_at == self.step:
            return
        self._recalibrated_at = self.step
        if not self._ema_norms:
            return
        config = self.config
        rng = torch.Generator().manual_seed(stream_seed(config.seed, 4))
        momenta = [norm.momentum for norm in self._ema_norms]
        for norm in self._ema_norms:
            norm.reset_running_stats()
            norm.momentum = None  # cumulative average over the batches below
        self.generator_ema.train()
        try:
            for start in range(0, RECALIBRATION_IMAGES, RECALIBRATION_BATCH):
                count = min(RECALIBRATION_BATCH, RECALIBRATION_IMAGES - start)
                z = torch.randn(count, config.latent_dim, generator=rng).to(self.device)
                labels = None
                if config.conditional:
                    labels = torch.randint(config.num_classes, (count,), generator=rng).to(self.device)
                with self._autocast():
                    self.generator_ema(z, labels)
        finally:
            self.generator_ema.eval()
            for norm, momentum in zip(self._ema_norms, momenta, strict=True):
                norm.momentum = momentum

    def _flush_losses(self) -> dict[str, float]:
        if not self._pending_losses:
            return {}
        values = torch.stack(self._pending_losses)  # [steps, len(loss_names)]
        if self.world is not None:  # each rank's means are over equal shards: their mean is the global batch's
            values = all_reduce_mean(values, self.world)
        values = values.cpu()
        self._pending_losses.clear()
        for column, name in enumerate(self.loss_names):
            self.history[name].extend(values[:, column].tolist())
        return dict(zip(self.loss_names, values.mean(dim=0).tolist(), strict=True))

    # ---- the loop -------------------------------------------------------------------------------------

    def run(
        self,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        max_seconds: float | None = None,
        max_steps: int | None = None,
        should_pause: Callable[[], bool] | None = None,
    ) -> TrainResult:
        """Train until `config.steps`; stop early (with a checkpoint) on `should_stop()`, `max_seconds` (of
        this call), `config.budget_minutes` (of training over every resume) or after `max_steps` more steps;
        `should_pause()` is asked at each checkpoint boundary, right after the checkpoint is written (reason
        "paused": nothing is lost, a resume continues from there)."""
        config = self.config
        started = time.perf_counter()
        elapsed_before = self.elapsed_seconds
        if config.budget_seconds is not None:
            left = max(0.0, config.budget_seconds - elapsed_before)
            max_seconds = left if max_seconds is None else min(max_seconds, left)
        report_time, report_step = started, self.step
        stop_at = config.steps if max_steps is None else min(config.steps, self.step + max_steps)
        existing = self.checkpoint_path
        checkpoint_path = existing if existing is not None and existing.exists() else None
        losses: dict[str, float] = {}
        reason = "completed"
        saved_step = None
        while self.step < config.steps:
            stop = should_stop is not None and should_stop()
            out_of_time = max_seconds is not None and time.perf_counter() - started >= max_seconds
            if self.world is not None:
                stop, out_of_time = agree([stop, out_of_time], device=self.device)
            if stop:
                reason = "cancelled"
                break
            if out_of_time:
                reason = "time_limit"
                break
            if self.step >= stop_at:
                reason = "paused"
                break
            self.train_step()
            self.elapsed_seconds = elapsed_before + time.perf_counter() - started
            finished = self.step == config.steps
            sample_due = finished or self.step % config.sample_every == 0
            checkpoint_due = finished or self.step % config.checkpoint_every == 0
            if not (sample_due or checkpoint_due or self.step % config.log_every == 0):
                continue
            losses = self._flush_losses() or losses
            if sample_due:
                self.write_samples()
            if checkpoint_due:
                checkpoint_path = self.save_checkpoint() or checkpoint_path
                saved_step = self.step
            now = time.perf_counter()
            ips = (self.step - report_step) * config.batch_size / max(now - report_time, 1e-9)
            report_time, report_step = now, self.step
            if on_progress is not None:
                on_progress(self._progress(losses, ips, checkpoint_path, max_seconds, time.perf_counter() - started))
            if checkpoint_due and not finished and should_pause is not None:
                pause = should_pause()
                if self.world is not None:
                    (pause,) = agree([pause], device=self.device)
                if pause:
                    reason = "paused"
                    break
        losses = self._flush_losses() or losses
        self.recalibrate_ema()  # the EMA a run leaves behind is the one to sample, checkpointed or not
        if reason != "completed" and saved_step != self.step:
            checkpoint_path = self.save_checkpoint() or checkpoint_path
            if on_progress is not None:
                ips = (self.step - report_step) * config.batch_size / max(time.perf_counter() - report_time, 1e-9)
                elapsed = time.perf_counter() - started
                on_progress(self._progress(losses, ips, checkpoint_path, max_seconds, elapsed))
        return TrainResult(
            step=self.step,
            total_steps=config.steps,
            reason=reason,
            checkpoint_path=checkpoint_path,
            sample_grid_path=self.sample_grid_path,
            loss_curve_path=self.loss_curve_path,
            losses=losses,
        )

    def _progress(
        self,
        losses: dict[str, float],
        ips: float,
        checkpoint_path: Path | None,
        max_seconds: float | None,
        elapsed: float,
    ) -> Progress:
        eta = (self.config.steps - self.step) * self.config.batch_size / ips if ips > 0 else None
        if max_seconds is not None:
            eta = max(0.0, max_seconds - elapsed) if eta is None else min(eta, max(0.0, max_seconds - elapsed))
        return Progress(
            step=self.step,
            total_steps=self.config.steps,
            losses=dict(losses),
            images_per_second=ips,
            eta_seconds=eta,
            sample_grid_path=self.sample_grid_path,
            loss_curve_path=self.loss_curve_path,
            checkpoint_path=checkpoint_path,
            augment_p=None if self.ada is None else self.ada.p,
            ada_signal=None if self.ada is None else self.ada.signal,
            elapsed_seconds=self.elapsed_seconds,
        )

    # ---- outputs --------------------------------------------------------------------------------------

    @property
    def checkpoint_path(self) -> Path | None:
        return self.out_dir / "checkpoints" / "latest.pt" if self.out_dir is not None else None

    @torch.no_grad()
    def sample_images(self) -> np.ndarray:
        """The fixed-noise grid's images, [sample_count, R, R, 3] uint8: image i is seed i, class i % K."""
        config = self.config
        self.recalibrate_ema()
        z = torch.from_numpy(latents_for_seeds(range(config.sample_count), config.latent_dim)).to(self.device)
        labels = torch.arange(config.sample_count, device=self.device) % config.num_classes
        chunks = [
            self.generator_ema(z[i : i + 64], labels[i : i + 64] if config.conditional else None).cpu().numpy()
            for i in range(0, config.sample_count, 64)
        ]
        return to_uint8_images(np.concatenate(chunks))

    def write_samples(self) -> None:
        if self.out_dir is None or (self.world is not None and not self.world.is_main):
            return
        self.sample_grid_path = save_png(
            image_grid(self.sample_images()), self.out_dir / "samples" / f"step_{self.step:07d}.png"
        )
        self.loss_curve_path = save_png(loss_curve(self.history), self.out_dir / "loss_curve.png")

    def state_dict(self) -> dict[str, Any]:
        self._flush_losses()
        self.recalibrate_ema()
        return {
            "format": CHECKPOINT_FORMAT,
            "config": self.config.to_dict(),
            "step": self.step,
            "dataset_hash": self.dataset_hash,
            "class_names": list(self.class_names),
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "generator_ema": self.generator_ema.state_dict(),
            "optimizer_g": self.optimizer_g.state_dict(),
            "optimizer_d": self.optimizer_d.state_dict(),
            "sampler": self.sampler.state_dict(),
            "history": {name: torch.tensor(values, dtype=torch.float64) for name, values in self.history.items()},
            "rng": capture_rng_states(self._rngs()),
            "ada": None if self.ada is None else self.ada.state_dict(),
            "elapsed_seconds": self.elapsed_seconds,
        }

    def save_checkpoint(self, path: Path | None = None) -> Path | None:
        """Write the checkpoint (rank 0 only; under a World every rank must call it: the state gathers the
        ranks' pending losses and ADA signal)."""
        path = Path(path) if path is not None else self.checkpoint_path
        if path is None:
            return None
        state = self.state_dict()
        if self.world is None or self.world.is_main:
            atomic_torch_save(state, path)
        return path

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["dataset_hash"] != self.dataset_hash:
            raise ValueError("the checkpoint was trained on another dataset (its dataset hash differs)")
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.generator_ema.load_state_dict(state["generator_ema"])
        self.optimizer_g.load_state_dict(state["optimizer_g"])
        self.optimizer_d.load_state_dict(state["optimizer_d"])
        self.sampler.load_state_dict(state["sampler"])
        self.history = {name: values.tolist() for name, values in state["history"].items()}
        self.step = int(state["step"])
        restore_rng_states(state["rng"], self._rngs())
        if self.ada is not None and state.get("ada") is not None:
            self.ada.load_state_dict(state["ada"])
            if self.world is not None and not self.world.is_main:
                self.ada.drop_pending()  # the saved pending signal is the global sum: rank 0 carries it
        self.elapsed_seconds = float(state.get("elapsed_seconds", 0.0))
        if self.config.conditional:  # as the last trained step left it (the weight is not a saved tensor)
            self._set_conditioning(max(0, self.step - 1))
            self._update_ema_buffers()
        self._recalibrated_at = None
        self.recalibrate_ema()  # what the checkpoint held (or, for older checkpoints, what it should have)

    def _rngs(self) -> dict[str, torch.Generator]:
        return {"data": self.data_rng, "augment": self.augment_rng, "noise": self.noise_rng}

    @classmethod
    def resume(
        cls,
        *,
        checkpoint_path: Path,
        dataset: PreparedDataset,
        device: str | torch.device | None = None,
        out_dir: Path | None = None,
        config_changes: dict[str, Any] | None = None,
        world: World | None = None,
    ) -> Trainer:
        """A trainer that continues exactly where the checkpoint left off; only the schedule may change."""
        state = load_checkpoint(checkpoint_path)
        changes = dict(config_changes or {})
        for name in changes:
            if name not in RESUMABLE_CHANGES:
                raise ConfigError(name, "cannot change when resuming a run")
        config = GANConfig.from_overrides(state["config"], changes)
        trainer = cls(config=config, dataset=dataset, device=device, out_dir=out_dir, world=world)
        trainer.load_state_dict(state)
        return trainer


def _check_dataset_fits(config: GANConfig, dataset: PreparedDataset) -> None:
    if dataset.resolution != config.resolution:
        raise ConfigError(
            "resolution",
            f"the dataset was prepared at {dataset.resolution}px, the config asks {config.resolution}px",
        )
    if config.conditional and config.num_classes != dataset.num_classes:
        raise ConfigError(
            "num_classes",
            f"the dataset has {dataset.num_classes} classes, the config says {config.num_classes}",
        )
    if dataset.num_images == 0:
        raise ValueError("the dataset has no images")
