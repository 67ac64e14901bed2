"""Health: which ONNX Runtime execution providers this host offers, and whether a GPU is required."""

from typing import Any

from django.conf import settings


def onnxruntime_health() -> dict[str, Any]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    gpu = any(name in available for name in ("CUDAExecutionProvider", "TensorrtExecutionProvider"))
    report: dict[str, Any] = {
        "status": "ok",
        "version": onnxruntime.__version__,
        "available_providers": available,
        "configured_providers": [p for p in settings.GENERATION_PROVIDERS if p in available],
        "gpu_available": gpu,
        "require_gpu": settings.GENERATION_REQUIRE_GPU,
        # Informational unless a GPU is required: CPU inference is a supported configuration.
        "critical": settings.GENERATION_REQUIRE_GPU,
    }
    if settings.GENERATION_REQUIRE_GPU and not gpu:
        report["status"] = "down"
        report["detail"] = "GENERATION_REQUIRE_GPU=1 but no CUDA/TensorRT provider is available"
    return report
