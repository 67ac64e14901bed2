from datetime import timedelta

from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation"

    def ready(self) -> None:
        from core.health import register_health_check
        from core.scheduler import register_periodic
        from core.startup import register_startup_check
        from generation.health import onnxruntime_health
        from generation.runtime import announce_providers

        register_health_check("onnxruntime", onnxruntime_health)
        register_startup_check("onnxruntime providers", announce_providers)
        from core.metrics import register_metrics_collector
        from generation.metrics import collect as generation_metrics

        register_metrics_collector("generation", generation_metrics)
        # Refunds and events for runs and jobs finished outside a worker's own path (the sweeper failed them).
        register_periodic(
            name="generation.settle_finished",
            task_path="generation.tasks.settle_finished_jobs_task",
            every=timedelta(minutes=1),
        )
