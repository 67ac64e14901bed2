"""The GPU path end to end, in under 8 minutes on a CUDA host: train FastGAN at 256 px, export, serve.

1. trains the planner's CUDA FastGAN at 256 px (bf16 autocast, channels-last, data on the device) on toy
   images for `--train-minutes` (default 3), and reports training images/s;
2. exports the EMA generator to ONNX with the parity check (on the CPU, as always);
3. runs onnxruntime's CUDA provider against torch CUDA eager on the same model, interleaved rounds, batch 64:
   `ort_cuda_ips`, `torch_cuda_ips`, their parity, and whether onnxruntime silently fell back to the CPU.

On a machine without CUDA it says so and prints `{"skipped": true, ...}` (exit 0): nothing here can be
measured on a CPU.

    python -m bench.gpu_check [--train-minutes 3] [--rounds 8]

Prints a one-line summary, then one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from generation.gan.budget import base_shape
from generation.gan.config import GANConfig
from generation.gan.data import prepare_dataset, write_toy_dataset
from generation.gan.export import export_generator
from generation.gan.noise import latents_for_seeds
from generation.gan.onnx_runner import CPU, CUDA, active_providers, make_session, run_generator_float
from generation.gan.trainer import Trainer

RESOLUTION = 256
BATCH = 64
CACHE = Path("var/bench/gpu_check")


def skipped(reason: str) -> dict[str, object]:
    return {"bench": "gpu_check", "skipped": True, "reason": reason, "torch_version": torch.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-minutes", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--compile", action="store_true", help="also torch.compile the networks")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        result = skipped("no CUDA device here (torch.cuda.is_available() is False): the GPU path is unmeasured")
        print("gpu_check skipped: no CUDA device on this machine")
        print(json.dumps(result))
        return 0

    started = time.perf_counter()
    shape = base_shape(kind="cuda", resolution=RESOLUTION)
    config = GANConfig(
        arch="fastgan",
        resolution=RESOLUTION,
        g_channels=shape.g_channels,
        d_channels=shape.d_channels,
        batch_size=shape.batch_size,
        recon_weight=1.0,
        loss="hinge",
        ada=True,
        mixed_precision=True,
        compile=args.compile,
        steps=1_000_000,
        budget_minutes=args.train_minutes,
        log_every=20,
        checkpoint_every=1_000_000,
        sample_every=1_000_000,
        seed=0,
    )
    toy = write_toy_dataset(out_dir=CACHE / "toy", classes=4, per_class=25, resolution=RESOLUTION, seed=0)
    dataset = prepare_dataset(image_dir=toy, resolution=RESOLUTION)
    trainer = Trainer(config=config, dataset=dataset, device="cuda", out_dir=CACHE / "run")
    speeds: list[float] = []
    trainer.train_step()  # warm-up (cuDNN autotuning, compile)
    torch.cuda.synchronize()
    result = trainer.run(on_progress=lambda progress: speeds.append(progress.images_per_second))
    torch.cuda.synchronize()
    train_ips = statistics.median(speeds[1:] or speeds) if speeds else 0.0

    exported = export_generator(
        generator=trainer.generator_ema,
        config=config,
        out_path=CACHE / "run" / "model.onnx",
        step=trainer.step,
        dataset_hash=trainer.dataset_hash,
        class_names=trainer.class_names,
    )
    generator = trainer.generator_ema.eval()
    z_numpy = latents_for_seeds(range(BATCH), config.latent_dim)

    def torch_cuda() -> np.ndarray:
        with torch.inference_mode():
            return generator(torch.from_numpy(z_numpy).to("cuda")).float().cpu().numpy()

    engines = {"torch_cuda": torch_cuda}
    ort_error = None
    providers: list[str] = []
    try:
        import onnxruntime as ort  # noqa: PLC0415

        if hasattr(ort, "preload_dlls"):
            ort.preload_dlls()
        session = make_session(exported.path, providers=[CUDA, CPU])
        providers = active_providers(session)
        if CUDA in providers:
            engines["ort_cuda"] = lambda: run_generator_float(session, z_numpy)
    except Exception as error:  # noqa: BLE001 - report, keep the torch numbers
        ort_error = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    for run in engines.values():
        for _ in range(3):
            run()
    measured: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(args.rounds):
        for name, run in engines.items():
            t0 = time.perf_counter()
            for _ in range(4):
                run()
            measured[name].append(4 * BATCH / (time.perf_counter() - t0))
    parity = None
    if "ort_cuda" in engines:
        parity = float(np.abs(engines["ort_cuda"]() - torch_cuda()).max())
    report = {
        "bench": "gpu_check",
        "skipped": False,
        "device": torch.cuda.get_device_name(0),
        "resolution": RESOLUTION,
        "arch": config.arch,
        "g_channels": config.g_channels,
        "train_batch": config.batch_size,
        "train_steps": result.step,
        "train_stop": result.reason,
        "train_ips": round(train_ips, 1),
        "bf16_autocast": trainer.autocast,
        "compiled": config.compile,
        "export_parity_max_abs_diff": exported.max_abs_diff,
        "torch_cuda_ips": round(statistics.median(measured["torch_cuda"]), 1),
        "ort_cuda_ips": round(statistics.median(measured["ort_cuda"]), 1) if "ort_cuda" in measured else None,
        "ort_cuda_vs_torch_cuda": (
            round(
                statistics.median(o / t for o, t in zip(measured["ort_cuda"], measured["torch_cuda"], strict=True)), 3
            )
            if "ort_cuda" in measured
            else None
        ),
        "ort_cuda_vs_torch_cuda_max_abs_diff": parity,
        "ort_providers": providers,
        "ort_cuda_fell_back_to_cpu": CUDA not in providers,
        "ort_error": ort_error,
        "seconds": round(time.perf_counter() - started, 1),
        "torch_version": torch.__version__,
    }
    print(
        f"FastGAN-{RESOLUTION} on {report['device']}: training {report['train_ips']:.0f} img/s "
        f"({result.step} steps), inference batch {BATCH}: torch CUDA {report['torch_cuda_ips']:.0f} img/s, "
        f"onnxruntime CUDA {report['ort_cuda_ips'] or 'n/a'} img/s"
        + (" (FELL BACK TO CPU)" if report["ort_cuda_fell_back_to_cpu"] else "")
    )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
