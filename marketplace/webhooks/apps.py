from datetime import timedelta

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "marketplace.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from core.metrics import register_metrics_collector
        from core.scheduler import register_periodic
        from marketplace.webhooks import receivers  # noqa: F401  (connects the event_committed receiver)
        from marketplace.webhooks.metrics import collect as webhook_metrics

        register_metrics_collector("webhooks", webhook_metrics)

        register_periodic(
            name="webhooks.fan_out_pending",
            task_path="marketplace.webhooks.tasks.fan_out_pending_task",
            every=timedelta(minutes=1),
        )
