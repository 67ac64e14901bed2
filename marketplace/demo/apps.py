from datetime import timedelta

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "marketplace.demo"
    label = "demo"
    verbose_name = "Demo content"

    def ready(self) -> None:
        from core.scheduler import register_periodic

        register_periodic(
            name="demo.advance", task_path="marketplace.demo.tasks.demo_advance_task", every=timedelta(seconds=5)
        )
