from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "marketplace.subscriptions"
    label = "subscriptions"
    verbose_name = "Subscriptions"

    def ready(self) -> None:
        from core.scheduler import register_periodic
        from marketplace.subscriptions import conf

        register_periodic(
            name="subscriptions.renew_due",
            every=conf.get("SUBSCRIPTION_RENEW_EVERY"),
            task_path="marketplace.subscriptions.tasks.renew_due_subscriptions_task",
        )
