from django.apps import AppConfig


class CommissionsConfig(AppConfig):
    name = "marketplace.commissions"
    label = "commissions"
    verbose_name = "Commissions"

    def ready(self) -> None:
        from core.scheduler import register_periodic
        from marketplace.commissions import (
            conf,
            receivers,  # noqa: F401  (connects the receivers)
        )

        register_periodic(
            name="commissions.sweep",
            task_path="marketplace.commissions.tasks.commissions_sweep_task",
            every=conf.get("COMMISSION_SWEEP_EVERY"),
        )
