"""GAN inference throughput, side by side in one run: the same trained 64x64 generator at batch 64 under

1. torch eager (the baseline; eval mode, inference_mode, torch's default threads),
2. torch.compile (inductor),
3. onnxruntime, CPU EP, through generation.gan.onnx_runner as the server uses it (single-threaded session,
   batch spread over the cores), and for the record a classic session with intra-op threads,
4. on a CUDA machine also torch on the GPU and onnxruntime's CUDA EP (null elsewhere);

then, per architecture (`archs` in the JSON: DCGAN-64 as above, FastGAN at 64 and 128 px and the periodic
DCGAN a patterned set gets at 32 and 64 px, in the widths the budget planner gives a CPU run), torch eager
against onnxruntime, interleaved the same way. The top-level keys are DCGAN-64's, as before.

The generator comes from the real path: toy data -> generation.gan.trainer -> export (parity-checked), trained
once and cached under var/bench/. Each round runs every engine back to back; a ratio is the median over rounds
of the paired per-round ratios, which a neighbour's load that drifts from round to round cannot skew. Speeds
are per-engine medians; best rounds are reported alongside.

    python -m bench.inference [--rounds 12] [--iters 3] [--train-steps 120]

Prints a one-line summary, then one JSON object on the last line.

What the server's choices (generation/gan/onnx_runner.py) rest on: CPU tuning, measured by this benchmark on
the exported DCGAN-64 generator at batch 64:
- Batch parallelism instead of intra-op threads: each session runs single-threaded and `run_generator`
  splits a batch into chunks run concurrently (onnxruntime releases the GIL). ORT's ConvTranspose is a GEMM
  plus a col2im that does not parallelise, and every op of a multi-threaded run ends at a barrier that
  stalls whenever a neighbour takes a core; chunks have neither problem. ~2x over 2 intra-op threads on a
  busy 2-core VM. An image's pixels do not depend on its chunk (tested), so results stay reproducible.
- ORT_ENABLE_ALL: fusions and layout passes on top of the basic ones; ~10% over EXTENDED.
- Sequential execution: the graph is one chain, so the parallel executor only adds scheduling.
- Memory arena and memory patterns on: each chunk size reuses one allocation plan.
- Export side (generation.gan.export): batch norm folded and the first layer as a Gemm (~5x faster than
  ORT's ConvTranspose on a 1x1 input); the stride-2 transposed convolutions with >= 32 output channels as four
  2x2 phase convs + Concat + DepthToSpace (generation.gan.onnx_rewrite): +6% on the whole generator (946 vs
  886 img/s, quiet 2-core VM); on the 3-channel RGB layer the interleave costs more than it saves (-5% when
  included). Tried and dropped: one 3x3 conv + DepthToSpace per layer (2.25x the FLOPs: -45%).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from generation.gan.budget import PERIODIC_CHANNELS, base_shape
from generation.gan.config import GANConfig
from generation.gan.data import prepare_dataset, write_toy_dataset
from generation.gan.export import export_generator, read_model_metadata
from generation.gan.noise import latents_for_seeds
from generation.gan.onnx_runner import (
    CPU,
    CUDA,
    active_providers,
    batch_workers,
    make_session,
    run_generator_float,
)
from generation.gan.trainer import Trainer, load_generator

BATCH = 64
CACHE = Path("var/bench/gan_inference_64")


def bench_config(train_steps: int) -> GANConfig:
    # DCGAN-64 widths (G 512-256-128-64); a small training batch keeps the one-off training short on a CPU.
    return GANConfig(
        resolution=64,
        latent_dim=128,
        g_channels=64,
        d_channels=64,
        batch_size=16,
        steps=train_steps,
        checkpoint_every=train_steps,
        sample_every=train_steps,
        log_every=max(1, train_steps // 10),
        seed=0,
    )


def planned_config(arch: str, resolution: int, train_steps: int, **fields: object) -> GANConfig:
    """A briefly trained bench model in the widths budget.base_shape gives a CPU run of `arch`."""
    shape = base_shape(kind="cpu", resolution=resolution, arch=arch)
    return GANConfig(
        arch=arch,
        resolution=resolution,
        latent_dim=128,
        g_channels=shape.g_channels,
        d_channels=shape.d_channels,
        loss="hinge",
        steps=train_steps,
        checkpoint_every=train_steps,
        sample_every=train_steps,
        log_every=max(1, train_steps // 10),
        seed=0,
        **fields,
    )


def fastgan_config(resolution: int, train_steps: int) -> GANConfig:
    return planned_config("fastgan", resolution, train_steps, recon_weight=1.0, batch_size=8)


def periodic_dcgan_config(resolution: int, train_steps: int) -> GANConfig:
    """The DCGAN a periodic set gets on a CPU (PERIODIC_CHANNELS plane waves)."""
    return planned_config("dcgan", resolution, train_steps, periodic_channels=PERIODIC_CHANNELS, batch_size=16)


def trained_model(*, train_steps: int, config: GANConfig | None = None, name: str = "") -> tuple[Path, Path]:
    """(checkpoint, model.onnx) of a briefly trained generator (default DCGAN-64), trained on the first call."""
    config = config or bench_config(train_steps)
    run_dir = CACHE / f"{name}steps{train_steps}"
    model_path, checkpoint = run_dir / "model.onnx", run_dir / "checkpoints" / "latest.pt"
    cached = model_path.is_file() and checkpoint.is_file()
    if cached and read_model_metadata(model_path)["config"] == config.to_dict():
        return checkpoint, model_path
    resolution = config.resolution
    toy = write_toy_dataset(out_dir=CACHE / f"toy{resolution}", classes=4, per_class=25, resolution=resolution, seed=0)
    dataset = prepare_dataset(image_dir=toy, resolution=resolution)
    started = time.perf_counter()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a one-off job: one thread never stalls at a barrier on a shared machine
    try:
        trainer = Trainer(config=config, dataset=dataset, device=device, out_dir=run_dir)
        result = trainer.run()
    finally:
        torch.set_num_threads(threads)
    print(f"(trained the bench generator for {result.step} steps in {time.perf_counter() - started:.0f}s)")
    export_generator(
        generator=trainer.generator_ema,
        config=config,
        out_path=model_path,
        step=trainer.step,
        dataset_hash=trainer.dataset_hash,
        class_names=trainer.class_names,
    )
    return checkpoint, model_path


def interleaved(engines: dict[str, Callable[[], object]], *, rounds: int, iters: int) -> dict[str, list[float]]:
    """Images/s of each engine per round; engines take turns within every round."""
    speeds: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(rounds):
        for name, run in engines.items():
            started = time.perf_counter()
            for _ in range(iters):
                run()
            speeds[name].append(BATCH * iters / (time.perf_counter() - started))
    return speeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=120)
    args = parser.parse_args()

    checkpoint, model_path = trained_model(train_steps=args.train_steps)
    loaded = load_generator(checkpoint)
    generator = loaded.generator  # EMA weights, eval mode, CPU
    z_numpy = latents_for_seeds(range(BATCH), loaded.config.latent_dim)
    z = torch.from_numpy(z_numpy)
    threads = torch.get_num_threads()
    session = make_session(model_path, providers=[CPU])  # the server's configuration
    intra_op_session = make_session(model_path, providers=[CPU], intra_op_threads=threads)

    def eager() -> torch.Tensor:
        with torch.inference_mode():
            return generator(z)

    compiled_error = None
    compile_seconds = None
    try:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled_generator = torch.compile(generator)
            with torch.inference_mode():
                compiled_generator(z)  # compile now, outside the timed rounds
        compile_seconds = time.perf_counter() - started

        def compiled() -> torch.Tensor:
            with torch.inference_mode():
                return compiled_generator(z)

    except Exception as error:  # noqa: BLE001 - any compiler failure is reported, not fatal
        compiled = None
        compiled_error = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"

    def onnxruntime_cpu() -> np.ndarray:
        return run_generator_float(session, z_numpy)

    def onnxruntime_intra_op() -> np.ndarray:
        return run_generator_float(intra_op_session, z_numpy)

    with torch.inference_mode():
        reference = generator(z).numpy()
    ort_max_abs_diff = float(np.abs(onnxruntime_cpu() - reference).max())

    engines: dict[str, Callable[[], object]] = {
        "torch_eager": eager,
        "ort": onnxruntime_cpu,
        "ort_intra_op_threads": onnxruntime_intra_op,
    }
    if compiled is not None:
        engines["torch_compile"] = compiled
    for run in engines.values():  # warm-up: allocator, thread pools, kernel caches
        run()
        run()
    speeds = interleaved(engines, rounds=args.rounds, iters=args.iters)
    best = {name: max(values) for name, values in speeds.items()}
    median = {name: statistics.median(values) for name, values in speeds.items()}

    def ratio(a: str, b: str) -> float | None:
        if a not in speeds or b not in speeds:
            return None
        return round(statistics.median(x / y for x, y in zip(speeds[a], speeds[b], strict=True)), 3)

    cuda = cuda_measurements(generator, model_path, z_numpy, rounds=args.rounds, iters=args.iters)
    archs = {
        "dcgan_64": {
            "arch": "dcgan",
            "resolution": 64,
            "g_channels": loaded.config.g_channels,
            "torch_eager_ips": round(median["torch_eager"], 1),
            "ort_ips": round(median["ort"], 1),
            "ort_vs_torch_eager": ratio("ort", "torch_eager"),
            "ort_max_abs_diff_vs_torch": ort_max_abs_diff,
        }
    }
    for resolution in (64, 128):
        config = fastgan_config(resolution, args.train_steps // 4)
        archs[f"fastgan_{resolution}"] = eager_vs_ort(
            *trained_model(train_steps=config.steps, config=config, name=f"fastgan{resolution}_"),
            rounds=args.rounds,
            iters=args.iters,
        )
    for resolution in (32, 64):
        config = periodic_dcgan_config(resolution, args.train_steps // 4)
        archs[f"dcgan_periodic_{resolution}"] = eager_vs_ort(
            *trained_model(train_steps=config.steps, config=config, name=f"dcgan_periodic{resolution}_"),
            rounds=args.rounds,
            iters=args.iters,
        )
    result = {
        "bench": "gan_inference",
        "resolution": 64,
        "batch": BATCH,
        "threads": threads,
        "cpu_count": os.cpu_count(),
        "rounds": args.rounds,
        "iters_per_round": args.iters,
        "torch_eager_ips": round(median["torch_eager"], 1),
        "torch_compile_ips": round(median["torch_compile"], 1) if "torch_compile" in median else None,
        "torch_compile_error": compiled_error,
        "torch_compile_seconds": round(compile_seconds, 1) if compile_seconds is not None else None,
        "ort_ips": round(median["ort"], 1),
        "ort_vs_torch_eager": ratio("ort", "torch_eager"),
        "ort_vs_torch_compile": ratio("ort", "torch_compile"),
        "ort_intra_op_threads_ips": round(median["ort_intra_op_threads"], 1),
        "ort_intra_op_threads_vs_torch_eager": ratio("ort_intra_op_threads", "torch_eager"),
        "ort_batch_workers": batch_workers(session),
        "best_ips": {name: round(value, 1) for name, value in best.items()},
        "ort_max_abs_diff_vs_torch": ort_max_abs_diff,
        "ort_providers": active_providers(session),
        "model_bytes": model_path.stat().st_size,
        "trained_steps": loaded.step,
        **cuda,
        "archs": archs,
        "min_ort_vs_torch_eager": min(entry["ort_vs_torch_eager"] for entry in archs.values()),
        "torch_version": torch.__version__,
        "onnxruntime_version": ort.__version__,
    }
    compiled_part = (
        f"torch.compile {result['torch_compile_ips']:.0f}"
        if result["torch_compile_ips"] is not None
        else f"torch.compile n/a ({compiled_error})"
    )
    cuda_part = (
        f"; CUDA: torch {result['torch_cuda_ips']:.0f}, ort {result['ort_cuda_ips'] or 'n/a'}"
        if result["torch_cuda_ips"] is not None
        else ""
    )
    print(
        f"DCGAN-64 generator, batch {BATCH}, {threads} threads, images/s (median of {args.rounds} rounds): "
        f"torch eager {result['torch_eager_ips']:.0f}, {compiled_part}, onnxruntime {result['ort_ips']:.0f} "
        f"-> ort/eager x{result['ort_vs_torch_eager']:.2f} (median paired ratio){cuda_part}"
    )
    print(
        "per architecture, ort/eager: "
        + ", ".join(f"{name} x{entry['ort_vs_torch_eager']:.2f}" for name, entry in archs.items())
    )
    print(json.dumps(result))


def eager_vs_ort(checkpoint: Path, model_path: Path, *, rounds: int, iters: int) -> dict[str, object]:
    """torch eager vs onnxruntime (the server's session) on one exported generator, interleaved rounds."""
    loaded = load_generator(checkpoint)
    generator, config = loaded.generator, loaded.config
    z_numpy = latents_for_seeds(range(BATCH), config.latent_dim)
    z = torch.from_numpy(z_numpy)
    session = make_session(model_path, providers=[CPU])

    def eager() -> torch.Tensor:
        with torch.inference_mode():
            return generator(z)

    def onnxruntime_cpu() -> np.ndarray:
        return run_generator_float(session, z_numpy)

    with torch.inference_mode():
        diff = float(np.abs(onnxruntime_cpu() - generator(z).numpy()).max())
    engines = {"torch_eager": eager, "ort": onnxruntime_cpu}
    for run in engines.values():
        run()
        run()
    speeds = interleaved(engines, rounds=rounds, iters=iters)
    paired = statistics.median(o / e for o, e in zip(speeds["ort"], speeds["torch_eager"], strict=True))
    return {
        "arch": config.arch,
        "resolution": config.resolution,
        "g_channels": config.g_channels,
        "periodic_channels": config.periodic_channels,
        "torch_eager_ips": round(statistics.median(speeds["torch_eager"]), 1),
        "ort_ips": round(statistics.median(speeds["ort"]), 1),
        "ort_vs_torch_eager": round(paired, 3),
        "ort_max_abs_diff_vs_torch": diff,
        "model_bytes": model_path.stat().st_size,
    }


def cuda_measurements(
    generator: torch.nn.Module, model_path: Path, z_numpy: np.ndarray, *, rounds: int, iters: int
) -> dict[str, object]:
    empty: dict[str, object] = {
        "torch_cuda_ips": None,
        "ort_cuda_ips": None,
        "ort_cuda_providers": None,
        "ort_cuda_fell_back_to_cpu": None,
        "ort_cuda_error": None,
    }
    if not torch.cuda.is_available():
        return {**empty, "ort_cuda_error": "no CUDA device"}
    gpu_generator = copy.deepcopy(generator).to("cuda")

    def torch_cuda() -> np.ndarray:
        # host latents in, host images out: the same work the ORT call does
        with torch.inference_mode():
            return gpu_generator(torch.from_numpy(z_numpy).to("cuda")).cpu().numpy()

    engines: dict[str, Callable[[], object]] = {"torch_cuda": torch_cuda}
    result = dict(empty)
    try:
        if hasattr(ort, "preload_dlls"):
            ort.preload_dlls()  # CUDA/cuDNN from the pip-installed nvidia packages, if any
        session = make_session(model_path, providers=[CUDA, CPU])
        providers = active_providers(session)
        result["ort_cuda_providers"] = providers
        result["ort_cuda_fell_back_to_cpu"] = CUDA not in providers
        if CUDA in providers:
            engines["ort_cuda"] = lambda: run_generator_float(session, z_numpy)
        else:
            result["ort_cuda_error"] = f"onnxruntime {ort.__version__} has no usable CUDA EP here"
    except Exception as error:  # noqa: BLE001 - report, do not crash the CPU numbers
        result["ort_cuda_error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    for run in engines.values():
        for _ in range(3):
            run()
    speeds = interleaved(engines, rounds=rounds, iters=iters * 4)
    result["torch_cuda_ips"] = round(statistics.median(speeds["torch_cuda"]), 1)
    if "ort_cuda" in speeds:
        result["ort_cuda_ips"] = round(statistics.median(speeds["ort_cuda"]), 1)
    return result


if __name__ == "__main__":
    main()
