from django.contrib import admin
from django.urls import path

from marketplace.dashboard.views import dashboard, gas_breaker_reset

# admin_view: staff only (others are sent to the admin login), never cached, CSRF-protected like the admin.
urlpatterns = [
    path("", admin.site.admin_view(dashboard), name="dashboard"),
    path("gas-breaker/reset/", admin.site.admin_view(gas_breaker_reset), name="dashboard-gas-breaker-reset"),
]
