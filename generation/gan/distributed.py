"""One run over several processes: torchrun starts them, DistributedDataParallel keeps them in step.

`torchrun --nproc-per-node N -m generation.gan.train ...` sets RANK/WORLD_SIZE/MASTER_ADDR; `init_world`
joins the process group (gloo on the CPU, NCCL on CUDA, one device per local rank) with a timeout, so when a
rank dies the others fail their next collective instead of waiting forever and torchrun ends the run.

How a step is split (generation.gan.trainer): `config.batch_size` is the *global* batch. Every rank draws the
whole batch's randomness (data order, flips, z, labels, augmentation) from generators seeded alike, and keeps
its own rows (rank r: rows r*b .. (r+1)*b). So each rank trains on different images and noise, deterministically,
while every generator state is the same on every rank: the checkpoint rank 0 writes resumes all of them.
Batch norm sees the global batch: torch's SyncBatchNorm on CUDA, `GlobalBatchNorm2d` on the CPU (torch's
refuses CPU tensors). With equal shards, averaged gradients and global batch statistics, N processes compute
what one process computes on the same global batch, up to float summation order.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

PR_SET_PDEATHSIG = 1
# looked up before any fork, so a preexec function runs only this one foreign call
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None) if sys.platform == "linux" else None
DEFAULT_TIMEOUT_SECONDS = 120.0  # a collective waits this long for a dead rank before failing
TIMEOUT_ENV = "ATELIER_DIST_TIMEOUT"


@dataclass(frozen=True)
class World:
    rank: int
    size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, batch_size: int) -> tuple[int, int]:
        """(offset, length) of this rank's rows in a global batch."""
        local = batch_size // self.size
        return self.rank * local, local


def die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent dies (elsewhere a no-op). Ranks arm it against torchrun,
    and the worker pool arms torchrun against itself, so a SIGKILLed worker leaves no orphan training on into
    the run directory the next attempt resumes from."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_world(*, device: str | None = None) -> tuple[World, torch.device]:
    """Join the process group torchrun describes; the device is cuda:<local rank> when CUDA is asked for or
    available, else the CPU (then one thread per rank unless OMP_NUM_THREADS says otherwise)."""
    die_with_parent()
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    wants_cuda = device.startswith("cuda") if device else torch.cuda.is_available()
    if wants_cuda:
        torch.cuda.set_device(local_rank)
        chosen = torch.device("cuda", local_rank)
    else:
        chosen = torch.device("cpu")
    timeout = timedelta(seconds=float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_SECONDS)))
    dist.init_process_group(
        "nccl" if wants_cuda else "gloo",
        timeout=timeout,
        device_id=chosen if wants_cuda else None,
    )
    return World(rank=rank, size=size, local_rank=local_rank), chosen


def close_world() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_mean(tensor: torch.Tensor, world: World) -> torch.Tensor:
    dist.all_reduce(tensor)
    return tensor.div_(world.size)


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    dist.all_reduce(tensor)
    return tensor


def agree(flags: list[bool], *, device: torch.device) -> list[bool]:
    """Each flag true on any rank is true on all: stop and pause decisions (signals, clocks, files) are taken
    per process but must end every rank at the same step."""
    tensor = torch.tensor([int(flag) for flag in flags], dtype=torch.int32, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return [bool(value) for value in tensor.tolist()]


def average_gradients(module: nn.Module, world: World) -> None:
    """What DDP's reducer does, for the steps it cannot take (the lazy R1/R2 double backward)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    all_reduce_mean(flat, world)
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
        offset += grad.numel()


class _AllReduceSum(torch.autograd.Function):
    """Sum over the ranks, with the gradient of a sum: every rank's output depends on every rank's input, so
    the gradient of an input is the sum over the ranks of the output gradients."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:  # noqa: ARG004 - autograd's signature
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: ARG004
        total = grad.clone()
        dist.all_reduce(total)
        return total


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """Batch norm over the global batch on the CPU (torch's SyncBatchNorm is CUDA-only): per-channel sums and
    sums of squares are all-reduced with autograd (the backward all-reduces their gradients), so the output
    and gradients equal batch norm over every rank's rows together. Eval mode and one process: plain BN."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [N, C, H, W]
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        channels = x.shape[1]
        count = torch.full((1,), x.numel() / channels, dtype=x.dtype, device=x.device)
        local = torch.cat([x.sum(dim=(0, 2, 3)), (x * x).sum(dim=(0, 2, 3)), count])  # [2C + 1]
        total = _AllReduceSum.apply(local)
        n = total[-1]
        mean = total[:channels] / n
        var = (total[channels : 2 * channels] / n - mean * mean).clamp_min(0.0)  # biased, as BN normalises
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                self.running_mean.lerp_(mean.detach(), momentum)
                self.running_var.lerp_(var.detach() * n / (n - 1).clamp_min(1.0), momentum)
        out = (x - mean[None, :, None, None]) * torch.rsqrt(var + self.eps)[None, :, None, None]
        if self.affine:
            out = out * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        return out


def global_batch_norm(module: nn.Module, device: torch.device) -> nn.Module:
    """`module` with every BatchNorm2d computing global-batch statistics (same parameters and buffers)."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return _to_global_bn(module)


def _to_global_bn(module: nn.Module) -> nn.Module:
    if isinstance(module, nn.BatchNorm2d) and not isinstance(module, GlobalBatchNorm2d):
        module.__class__ = GlobalBatchNorm2d  # same attributes, parameters and buffers; only forward differs
        return module
    for child in module.children():
        _to_global_bn(child)
    return module
