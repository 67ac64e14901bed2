"""The ORT runtime: onnxruntime-gpu lists CUDA here but cannot load it, so a CUDA request silently becomes a
CPU session. These tests check, for real on this machine, that we notice, warn, report it and (when a GPU is
required) refuse."""

import logging
import shutil
import threading

import pytest

from generation import runtime

CUDA, CPU = "CUDAExecutionProvider", "CPUExecutionProvider"


@pytest.fixture
def cuda_missing():
    if CUDA not in runtime.ort.get_available_providers():
        pytest.skip("this onnxruntime build does not offer CUDA at all")
    if runtime.probe().gpu:
        pytest.skip("CUDA really works on this host: there is no fallback to detect")


def test_cuda_requested_but_cpu_in_use_is_detected_and_warned_about(settings, exported_onnx, cuda_missing, caplog):
    settings.GENERATION_PROVIDERS = [CUDA, CPU]
    with caplog.at_level(logging.WARNING, logger="atelier.generation.runtime"):
        loaded = runtime.open_session(exported_onnx)
    assert loaded.report.requested == (CUDA, CPU)
    assert loaded.report.active == (CPU,) and loaded.provider == CPU
    assert loaded.report.fallback is True and loaded.report.missing == (CUDA,)
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1 and CUDA in warnings[0].getMessage()


def test_with_a_gpu_required_the_fallback_is_refused(settings, exported_onnx, cuda_missing):
    settings.GENERATION_PROVIDERS = [CUDA, CPU]
    settings.GENERATION_REQUIRE_GPU = True
    with pytest.raises(runtime.GpuRequired, match="GENERATION_REQUIRE_GPU.*CPUExecutionProvider") as refused:
        runtime.open_session(exported_onnx)
    assert refused.value.report.missing == (CUDA,)


def test_cpu_only_configuration_is_not_a_fallback(settings, exported_onnx, caplog):
    settings.GENERATION_PROVIDERS = [CPU]
    with caplog.at_level(logging.WARNING, logger="atelier.generation.runtime"):
        loaded = runtime.open_session(exported_onnx)
    assert loaded.report.fallback is False and loaded.report.active == (CPU,)
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_providers_the_build_does_not_offer_are_not_requested_and_cpu_comes_last(settings):
    settings.GENERATION_PROVIDERS = ["NoSuchExecutionProvider", CPU, CUDA]
    requested = runtime.requested_providers()
    assert "NoSuchExecutionProvider" not in requested and requested[-1] == CPU
    assert requested.count(CPU) == 1


@pytest.mark.django_db
def test_healthz_shows_the_fallback(api, settings, cuda_missing):
    settings.GENERATION_PROVIDERS = [CUDA, CPU]
    check = api.get("/healthz").json()["checks"]["onnxruntime"]
    assert check["status"] == "ok"
    assert check["fallback"] is True and check["missing_providers"] == [CUDA]
    assert check["providers_in_use"] == [CPU] and check["gpu_in_use"] is False


@pytest.mark.django_db
def test_healthz_is_503_when_a_gpu_is_required_but_sessions_run_on_the_cpu(api, settings, cuda_missing):
    settings.GENERATION_PROVIDERS = [CUDA, CPU]
    settings.GENERATION_REQUIRE_GPU = True
    response = api.get("/healthz")
    check = response.json()["checks"]["onnxruntime"]
    assert response.status_code == 503
    assert check["status"] == "down" and check["fallback"] is True and CUDA in check["detail"]


def test_session_cache_is_a_bounded_lru(settings, exported_onnx, tmp_path):
    settings.GENERATION_PROVIDERS = [CPU]
    cache = runtime.SessionCache(max_size=2)
    paths = []
    for name in ("a", "b", "c"):
        paths.append(tmp_path / f"{name}.onnx")
        shutil.copy(exported_onnx, paths[-1])
    a = cache.get("a", paths[0])
    cache.get("b", paths[1])
    assert cache.get("a", paths[0]) is a  # a hit refreshes "a"
    cache.get("c", paths[2])  # evicts "b", the least recently used
    assert len(cache) == 2
    assert {key[0] for key in cache.cached_keys()} == {"a", "c"}
    assert cache.get("a", paths[0]) is a


def test_concurrent_first_use_loads_a_model_once(settings, exported_onnx, monkeypatch):
    settings.GENERATION_PROVIDERS = [CPU]
    cache = runtime.SessionCache(max_size=4)
    opened = []
    real_open = runtime.open_session

    def counting_open(path, **kwargs):
        opened.append(path)
        return real_open(path, **kwargs)

    monkeypatch.setattr(runtime, "open_session", counting_open)
    results, barrier = [], threading.Barrier(8)

    def use():
        barrier.wait()
        results.append(cache.get("model", exported_onnx))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(opened) == 1 and len({id(result) for result in results}) == 1
