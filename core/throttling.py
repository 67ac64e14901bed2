"""DRF throttles keyed on `core.client_ip` (never on a client-chosen `X-Forwarded-For`)."""

from rest_framework import throttling

from core.client_ip import client_ip


class ClientIpMixin:
    def get_ident(self, request) -> str:
        return client_ip(request)


class AnonRateThrottle(ClientIpMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientIpMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(ClientIpMixin, throttling.ScopedRateThrottle):
    pass
