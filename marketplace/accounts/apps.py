from datetime import timedelta

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "marketplace.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from core.scheduler import register_periodic
        from marketplace.accounts import openapi_auth  # noqa: F401  (registers the OpenAPI auth extension)

        register_periodic(
            name="accounts.prune_login_lockouts",
            task_path="marketplace.accounts.tasks.prune_login_lockouts_task",
            every=timedelta(hours=1),
        )
