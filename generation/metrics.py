"""Generation's metrics: training throughput of running runs, generation throughput by ONNX Runtime provider,
and the provider this process's sessions really run on (a GPU that silently went away shows here)."""

from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Count, Sum
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from core.jobs import JobState
from generation import runtime
from generation.models import GeneratedImage, GenerationJob, TrainingRun

WINDOW = timedelta(minutes=10)


def collect() -> Iterable[Metric]:
    training = GaugeMetricFamily(
        "atelier_training_images_per_second",
        "Training throughput of each running run (its last progress report).",
        labels=["run"],
    )
    for run_id, speed in TrainingRun.objects.filter(state=JobState.RUNNING).values_list(
        "public_id", "images_per_second"
    ):
        training.add_metric([str(run_id)], speed or 0.0)
    yield training

    generated = GaugeMetricFamily(
        "atelier_generation_images_per_second",
        f"Images per second of generation jobs finished in the last {int(WINDOW.total_seconds())} s, by provider.",
        labels=["provider"],
    )
    speeds: dict[str, tuple[int, float]] = {}
    recent = GenerationJob.objects.filter(
        state=JobState.SUCCEEDED, finished_at__gte=timezone.now() - WINDOW, started_at__isnull=False
    )
    for provider, produced, started, finished in recent.values_list(
        "provider", "produced", "started_at", "finished_at"
    ):
        images, seconds = speeds.get(provider or "unknown", (0, 0.0))
        speeds[provider or "unknown"] = (images + produced, seconds + (finished - started).total_seconds())
    for provider, (images, seconds) in sorted(speeds.items()):
        generated.add_metric([provider], images / seconds if seconds > 0 else 0.0)
    yield generated

    total = GaugeMetricFamily("atelier_generated_images", "Generated images stored, by provider.", labels=["provider"])
    for row in GeneratedImage.objects.values("provider").annotate(n=Count("pk")):
        total.add_metric([row["provider"]], row["n"])
    yield total

    report = runtime.probe()
    in_use = GaugeMetricFamily(
        "atelier_onnxruntime_provider_in_use", "1 for the provider this host's sessions run on.", labels=["provider"]
    )
    in_use.add_metric([report.provider], 1)
    yield in_use
    yield GaugeMetricFamily(
        "atelier_onnxruntime_gpu_in_use", "1 when sessions run on a GPU provider.", value=int(report.gpu)
    )
    yield GaugeMetricFamily(
        "atelier_onnxruntime_fallback",
        "1 when a configured provider could not be loaded (sessions fell back).",
        value=int(report.fallback),
    )
    produced = GenerationJob.objects.aggregate(n=Sum("produced"))["n"] or 0
    yield GaugeMetricFamily("atelier_generation_jobs_images", "Images produced by all generation jobs.", value=produced)
