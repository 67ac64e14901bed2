"""Health: which ONNX Runtime execution providers this host offers, which ones a session really gets (a
one-node probe session, once per process), whether that is a silent fallback, and whether a GPU is required."""

from typing import Any

from django.conf import settings

from generation import runtime


def onnxruntime_health() -> dict[str, Any]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    gpu = any(name in available for name in runtime.GPU_PROVIDERS)
    probe = runtime.probe()
    last = runtime.last_report()
    report: dict[str, Any] = {
        "status": "ok",
        "version": onnxruntime.__version__,
        "available_providers": available,
        "configured_providers": [p for p in settings.GENERATION_PROVIDERS if p in available],
        "requested_providers": list(probe.requested),
        "providers_in_use": list(probe.active),
        "provider": probe.provider,
        "missing_providers": list(probe.missing),
        "fallback": probe.fallback,
        "last_session": last.as_dict() if last is not None else None,
        "sessions_cached": len(runtime.sessions),
        "gpu_providers_in_build": gpu,  # this onnxruntime build ships a GPU provider (usable or not)
        "gpu_in_use": probe.gpu,
        "require_gpu": settings.GENERATION_REQUIRE_GPU,
        # Informational unless a GPU is required: CPU inference is a supported configuration.
        "critical": settings.GENERATION_REQUIRE_GPU,
    }
    if settings.GENERATION_REQUIRE_GPU and not probe.gpu:
        report["status"] = "down"
        report["detail"] = f"GENERATION_REQUIRE_GPU=1 but sessions run on {probe.provider}" + (
            f" ({', '.join(probe.missing)} could not be loaded)" if probe.missing else ""
        )
    return report
