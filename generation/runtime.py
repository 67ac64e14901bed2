"""onnxruntime sessions for model versions: provider choice, fallback detection, a bounded thread-safe cache.

Providers come from `settings.GENERATION_PROVIDERS` (GPU providers first, CPU last), filtered by what this
onnxruntime build offers. onnxruntime-gpu *lists* CUDA and TensorRT even where their libraries are missing,
and then silently creates a CPU-only session; so after creating a session we compare what we asked for with
`session.get_providers()`, warn naming each missing provider, and refuse outright when
`settings.GENERATION_REQUIRE_GPU` is on (`GpuRequired`). The last session's providers are kept for /healthz.

Asking onnxruntime for a provider it cannot load makes it print red C++ errors and an "EP Error" banner on every
session. So each GPU provider is tried once per process (`provider_check`) with onnxruntime's output captured,
the reason it failed is kept, and later sessions ask only for providers that loaded; `announce_providers` says
in one log line what runs and why the rest do not.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from django.conf import settings

from core.media import media_local_path
from generation import conf
from generation.gan.onnx_runner import CPU, active_providers, make_session, run_generator

logger = logging.getLogger("atelier.generation.runtime")

GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


class GpuRequired(RuntimeError):
    """GENERATION_REQUIRE_GPU is on, but the session runs on the CPU."""

    def __init__(self, message: str, *, report: ProviderReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class ProviderReport:
    requested: tuple[str, ...]
    active: tuple[str, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(name for name in self.requested if name not in self.active)

    @property
    def fallback(self) -> bool:
        return bool(self.missing)

    @property
    def provider(self) -> str:
        """The provider that runs the graph: the first one in use."""
        return self.active[0] if self.active else CPU

    @property
    def gpu(self) -> bool:
        return any(name in GPU_PROVIDERS for name in self.active)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requested": list(self.requested),
            "in_use": list(self.active),
            "provider": self.provider,
            "missing": list(self.missing),
            "fallback": self.fallback,
            "gpu": self.gpu,
        }


@dataclass
class LoadedModel:
    session: ort.InferenceSession
    report: ProviderReport
    path: str

    @property
    def provider(self) -> str:
        return self.report.provider

    def generate(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """z [N, latent] (+ labels [N]) -> [N, H, W, 3] uint8."""
        return run_generator(self.session, z, labels)


def requested_providers() -> list[str]:
    """The configured providers this onnxruntime build offers, in order, with the CPU always last."""
    available = set(ort.get_available_providers())
    chosen = [name for name in settings.GENERATION_PROVIDERS if name in available and name != CPU]
    return [*chosen, CPU]


@dataclass(frozen=True)
class ProviderCheck:
    """Which configured providers load on this host, and why the others do not."""

    usable: tuple[str, ...]
    unusable: tuple[tuple[str, str], ...]  # (provider, reason)

    def line(self) -> str:
        running = ", ".join(self.usable)
        if not self.unusable:
            return f"onnxruntime {ort.__version__} runs on {running}"
        why = "; ".join(f"{name}: {reason}" for name, reason in self.unusable)
        return f"onnxruntime {ort.__version__} runs on {running} (not available here: {why})"


_LIBRARY_MISSING = re.compile(r"error: ([\w.+-]+\.so[\w.]*): cannot open shared object file")
_CUDA_REQUIREMENT = re.compile(r"Require (cuDNN \S+ and CUDA [0-9.*]*[0-9*])")


def _failure_reason(captured: str) -> str:
    """The first useful cause in what onnxruntime printed while failing to load a provider."""
    if missing := _LIBRARY_MISSING.search(captured):
        reason = f"{missing.group(1)} not found"
        if requirement := _CUDA_REQUIREMENT.search(captured):
            reason += f"; needs {requirement.group(1)}"
        return reason
    if "libcuda.so" in captured or "no CUDA-capable device" in captured:
        return "no NVIDIA driver or GPU"
    if "TensorRT libraries" in captured:
        return "TensorRT libraries not found"
    return "failed to initialise"


@contextlib.contextmanager
def _captured_output() -> Any:
    """Send this process's stdout and stderr (the file descriptors, where onnxruntime's C++ logger writes, and
    Python's streams, where its fallback banner is printed) to a buffer for the duration."""
    buffer = io.StringIO()
    with tempfile.TemporaryFile(mode="w+b") as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = {fd: os.dup(fd) for fd in (1, 2)}
        try:
            for fd in saved:
                os.dup2(sink.fileno(), fd)
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
                yield buffer
        finally:
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            sink.seek(0)
            buffer.write(sink.read().decode("utf-8", "replace"))


_check_lock = threading.Lock()
_checks: dict[tuple[str, ...], ProviderCheck] = {}


def provider_check() -> ProviderCheck:
    """Try each configured GPU provider once per process, quietly; remember which load and why others don't."""
    requested = tuple(requested_providers())
    with _check_lock:
        if requested in _checks:
            return _checks[requested]
        usable, unusable = [], []
        with tempfile.TemporaryDirectory(prefix="ort-check-") as folder:
            path = Path(folder) / "probe.onnx"
            _write_probe_model(path)
            for name in requested:
                if name == CPU:
                    continue
                with _captured_output() as captured:
                    try:
                        loaded = name in make_session(path, providers=[name, CPU]).get_providers()
                    except Exception as error:  # a provider that raises is as unusable as one dropped
                        print(error)
                        loaded = False
                if loaded:
                    usable.append(name)
                else:
                    unusable.append((name, _failure_reason(captured.getvalue())))
        check = ProviderCheck(usable=(*usable, CPU), unusable=tuple(unusable))
        _checks[requested] = check
        return check


_announced = False


def announce_providers() -> ProviderCheck:
    """Log, once per process, the one line that says which providers run here and why the others do not."""
    global _announced
    check = provider_check()
    if not _announced:
        _announced = True
        logger.log(logging.WARNING if check.unusable else logging.INFO, "%s", check.line())
    return check


_last_report: ProviderReport | None = None
_report_lock = threading.Lock()


def last_report() -> ProviderReport | None:
    """The providers of the most recently created session in this process (None before the first)."""
    return _last_report


def open_session(path: str | Path, *, what: str = "model") -> LoadedModel:
    """A session for `path` on the configured providers; warns on a silent fallback, refuses it when a GPU
    is required."""
    global _last_report
    requested = requested_providers()
    check = provider_check()
    session = make_session(path, providers=[name for name in requested if name in check.usable])
    report = ProviderReport(requested=tuple(requested), active=tuple(active_providers(session)))
    with _report_lock:
        _last_report = report
    if report.fallback:
        reasons = dict(check.unusable)
        already_said = _announced and set(report.missing) <= set(reasons)
        logger.log(
            logging.INFO if already_said else logging.WARNING,
            "onnxruntime could not load %s for %s; running on %s instead (requested %s). Install what this "
            "onnxruntime build needs, or set GENERATION_PROVIDERS to silence this.",
            ", ".join(f"{name} ({reasons.get(name, 'dropped by onnxruntime')})" for name in report.missing),
            what,
            ", ".join(report.active),
            ", ".join(report.requested),
        )
    else:
        logger.info("onnxruntime session for %s runs on %s", what, ", ".join(report.active))
    if settings.GENERATION_REQUIRE_GPU and not report.gpu:
        raise GpuRequired(
            f"GENERATION_REQUIRE_GPU is on but onnxruntime fell back to {report.provider} "
            f"({', '.join(report.missing) or 'no GPU provider'} unavailable); refusing to run on the CPU.",
            report=report,
        )
    return LoadedModel(session=session, report=report, path=str(path))


class SessionCache:
    """LRU of loaded models. Loading happens outside the cache lock (it can take seconds on a GPU), under a
    per-key lock so concurrent callers for one model load it once."""

    def __init__(self, max_size: int | None = None) -> None:
        self._max_size = max_size
        self._entries: OrderedDict[Hashable, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[Hashable, threading.Lock] = {}

    @property
    def max_size(self) -> int:
        return self._max_size or conf.get("GENERATION_SESSION_CACHE_SIZE")

    def get(self, key: Hashable, path: str | Path, *, what: str = "model") -> LoadedModel:
        key = (key, str(path), tuple(requested_providers()), bool(settings.GENERATION_REQUIRE_GPU))
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key]
            loaded = open_session(path, what=what)
            with self._lock:
                self._entries[key] = loaded
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_size:
                    self._entries.popitem(last=False)
                self._loading.pop(key, None)
        return loaded

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def cached_keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._entries)


sessions = SessionCache()


def session_for(*, model_version: Any) -> LoadedModel:
    """The cached session of a ModelVersion (keyed by its id and file hash: a replaced file is a new key)."""
    path = media_local_path(name=model_version.onnx_file.name, sha256=model_version.onnx_sha256)
    return sessions.get(
        (model_version.pk, model_version.onnx_sha256), path, what=f"model version {model_version.public_id}"
    )


# --- probe: what a session on this host really runs on, for /healthz ----------------------------------------

_probe_lock = threading.Lock()
_probe_results: dict[tuple[tuple[str, ...], bool], ProviderReport] = {}


def _write_probe_model(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "probe", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    onnx.save(model, str(path))


def probe(*, refresh: bool = False) -> ProviderReport:
    """Open a one-node session on the configured providers (once per process and configuration)."""
    key = (tuple(requested_providers()), bool(settings.GENERATION_REQUIRE_GPU))
    with _probe_lock:
        if key in _probe_results and not refresh:
            return _probe_results[key]
        with tempfile.TemporaryDirectory(prefix="ort-probe-") as folder:
            path = Path(folder) / "probe.onnx"
            _write_probe_model(path)
            try:
                report = open_session(path, what="the health probe").report
            except GpuRequired as refused:
                report = refused.report
        _probe_results[key] = report
        return report


def clear_caches() -> None:
    """Forget loaded sessions and probe results (tests; after changing providers)."""
    global _last_report, _announced
    sessions.clear()
    with _probe_lock:
        _probe_results.clear()
    with _check_lock:
        _checks.clear()
    _last_report = None
    _announced = False
