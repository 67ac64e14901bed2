"""onnxruntime helpers shared by the server runtime, the sample CLI and the benchmark: session options and
running a generator graph in concurrent batch chunks (results do not depend on the chunking). Why these choices,
with the measurements behind them: bench/inference.py.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort

from generation.gan.noise import to_uint8_images

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


_pool_lock = threading.Lock()
_pools: dict[int, ThreadPoolExecutor] = {}


def cpu_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def make_session(
    path: Path | str,
    *,
    providers: Sequence[str | tuple[str, dict]] | None = None,
    intra_op_threads: int | None = None,
) -> ort.InferenceSession:
    """A tuned session. `intra_op_threads=None` means one thread per call, with `run_generator` spreading a
    batch over the cores; pass a number to get classic intra-op threading instead."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = intra_op_threads or 1
    options.enable_cpu_mem_arena = True
    options.enable_mem_pattern = True
    options.log_severity_level = 3  # errors only: "provider X not available" is reported by active_providers
    return ort.InferenceSession(str(path), options, providers=list(providers or [CPU]))


def active_providers(session: ort.InferenceSession) -> list[str]:
    """The providers the session really uses: ORT silently drops one it cannot load (e.g. CUDA)."""
    return list(session.get_providers())


def batch_workers(session: ort.InferenceSession) -> int:
    """How many chunks of a batch to run at once: the cores, for a single-threaded CPU session."""
    single_threaded = session.get_session_options().intra_op_num_threads == 1
    return cpu_workers() if single_threaded and active_providers(session) == [CPU] else 1


def run_generator_float(
    session: ort.InferenceSession,
    z: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    workers: int | None = None,
) -> np.ndarray:
    """z [N, latent] float32 (and labels [N] int64 for conditional models) -> [N, 3, H, W] float32.

    `workers`: chunks of the batch run at once (default: `batch_workers(session)`)."""
    z = np.ascontiguousarray(z, dtype=np.float32)
    conditional = "labels" in {i.name for i in session.get_inputs()}
    if conditional and labels is None:
        raise ValueError("this model is conditional: pass one class label per latent")
    if not conditional and labels is not None:
        raise ValueError("this model is unconditional: it takes no class labels")
    labels = None if labels is None else np.ascontiguousarray(labels, dtype=np.int64)
    workers = batch_workers(session) if workers is None else workers
    # twice as many chunks as workers: a worker whose core is taken by a neighbour holds up less work
    chunks = min(len(z), 2 * workers) if workers > 1 else 1
    if chunks <= 1:
        return _run(session, z, labels)
    bounds = [len(z) * i // chunks for i in range(chunks + 1)]
    parts = [(z[a:b], None if labels is None else labels[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    results = _pool(workers).map(lambda part: _run(session, *part), parts)
    return np.concatenate(list(results))


def _run(session: ort.InferenceSession, z: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    feeds = {"z": z} if labels is None else {"z": z, "labels": labels}
    (images,) = session.run(["images"], feeds)
    return images


def _pool(workers: int) -> ThreadPoolExecutor:
    with _pool_lock:
        if workers not in _pools:
            _pools[workers] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ort-batch")
        return _pools[workers]


def run_generator(
    session: ort.InferenceSession,
    z: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    workers: int | None = None,
) -> np.ndarray:
    """z [N, latent] (+ labels [N]) -> [N, H, W, 3] uint8; `workers` as in run_generator_float."""
    return to_uint8_images(run_generator_float(session, z, labels, workers=workers))
