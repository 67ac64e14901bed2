from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "marketplace.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
