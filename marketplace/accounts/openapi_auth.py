"""Teach drf-spectacular about Bearer authentication (imported from AccountsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "marketplace.accounts.authentication.BearerAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A login token (atk_…) from /api/v1/auth/login, or an API key (atl_…)",
        }
