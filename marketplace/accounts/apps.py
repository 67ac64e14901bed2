from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "marketplace.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from marketplace.accounts import schema  # noqa: F401  (registers the OpenAPI auth extension)
