"""`GET /healthz`: each app registers checks; 200 when every critical check is ok, 503 otherwise."""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("atelier.health")

HealthCheck = Callable[[], dict[str, Any]]
_CHECKS: dict[str, HealthCheck] = {}


def register_health_check(name: str, check: HealthCheck) -> None:
    """A check returns a dict with `status` ("ok" or anything else), optional details, and `critical`
    (default True): a non-ok critical check makes /healthz answer 503."""
    _CHECKS[name] = check


def run_health_checks() -> tuple[bool, dict[str, dict[str, Any]]]:
    healthy = True
    report: dict[str, dict[str, Any]] = {}
    for name, check in _CHECKS.items():
        started = time.perf_counter()
        try:
            result = dict(check())
        except Exception as exc:  # a broken check is a failed check, never a 500
            logger.exception("health check %s raised", name)
            result = {"status": "down", "error": type(exc).__name__}
        result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
        critical = result.pop("critical", True)
        if critical and result.get("status") != "ok":
            healthy = False
        report[name] = result
    return healthy, report


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, checks = run_health_checks()
    return JsonResponse({"status": "ok" if healthy else "unhealthy", "checks": checks}, status=200 if healthy else 503)
