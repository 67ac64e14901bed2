"""On a host where the onnxruntime build lists GPU providers it cannot load, a process says so in one line and
onnxruntime prints none of its red errors or "EP Error" banners — checked in a fresh interpreter, as a web or
worker process starts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from generation import runtime

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import logging, sys
import django
django.setup()
logging.basicConfig(stream=sys.stdout, level=logging.INFO, force=True)
from generation import runtime
check = runtime.announce_providers()
runtime.announce_providers()
runtime.probe()
print("USABLE", ",".join(check.usable))
"""


@pytest.fixture
def gpu_listed_but_unusable():
    if not set(runtime.GPU_PROVIDERS) & set(runtime.ort.get_available_providers()):
        pytest.skip("this onnxruntime build lists no GPU provider")
    if runtime.probe().gpu:
        pytest.skip("a GPU provider really works on this host")


def test_a_fresh_process_names_what_runs_in_one_line_and_onnxruntime_stays_quiet(gpu_listed_but_unusable):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    env.pop("GENERATION_PROVIDERS", None)  # the default: TensorRT, CUDA, CPU
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    output = result.stdout + result.stderr
    assert "EP Error" not in output and "[E:onnxruntime" not in output and "Falling back" not in output
    lines = [line for line in output.splitlines() if line.startswith("WARNING:atelier.generation.runtime")]
    assert len(lines) == 1, output  # the announcement; the probe's own fallback note is INFO after it
    assert "runs on CPUExecutionProvider" in lines[0] and "CUDAExecutionProvider:" in lines[0]
    assert "USABLE CPUExecutionProvider" in output


def test_the_reason_a_provider_failed_is_read_from_what_onnxruntime_printed():
    printed = (
        "Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open "
        "shared object file: No such file or directory ... Require cuDNN 9.* and CUDA 13.*."
    )
    assert runtime._failure_reason(printed) == "libcublasLt.so.13 not found; needs cuDNN 9.* and CUDA 13.*"
    assert runtime._failure_reason("Please install TensorRT libraries as mentioned") == "TensorRT libraries not found"
    assert runtime._failure_reason("something else") == "failed to initialise"


def test_sessions_after_the_check_never_ask_for_a_provider_that_failed(
    settings, exported_onnx, gpu_listed_but_unusable, capfd
):
    settings.GENERATION_PROVIDERS = [*runtime.GPU_PROVIDERS, "CPUExecutionProvider"]
    runtime.clear_caches()
    runtime.provider_check()
    capfd.readouterr()
    loaded = runtime.open_session(exported_onnx)
    out, err = capfd.readouterr()
    assert "EP Error" not in out + err and "[E:onnxruntime" not in out + err
    assert loaded.report.fallback is True and loaded.report.active == ("CPUExecutionProvider",)
