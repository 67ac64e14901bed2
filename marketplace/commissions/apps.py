from django.apps import AppConfig


class CommissionsConfig(AppConfig):
    name = "marketplace.commissions"
    label = "commissions"
    verbose_name = "Commissions"
