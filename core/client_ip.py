"""The client's address, as the configured number of trusted reverse proxies saw it.

`X-Forwarded-For` is written by whoever sends the request, so only the entries appended by proxies we run can
be believed: with `TRUSTED_PROXY_COUNT = N` the client is the N-th address from the right (the one our
outermost proxy saw); with 0 (the default, no proxy) it is `REMOTE_ADDR` and the header is ignored. Every
throttle, lockout and log line that keys on a client reads it here, so no caller can pick its own identity.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    remote = _valid(request.META.get("REMOTE_ADDR", "")) or "unknown"
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    # The last proxy appends the address it saw; N trusted proxies contribute the rightmost N entries, and the
    # leftmost of those is what our outermost proxy saw. Fewer entries than proxies: the request bypassed one.
    candidate = forwarded[-min(trusted, len(forwarded))]
    return _valid(candidate) or remote
