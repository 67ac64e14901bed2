from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation"

    def ready(self) -> None:
        from core.health import register_health_check
        from generation.health import onnxruntime_health

        register_health_check("onnxruntime", onnxruntime_health)
