"""django.contrib.admin with our site (admin_site.py); a module of its own because app configs load before models."""

from django.contrib.admin.apps import AdminConfig


class AtelierAdminConfig(AdminConfig):
    default_site = "marketplace.accounts.admin_site.AtelierAdminSite"
