"""`GET /metrics` in Prometheus' text format: HTTP requests and database queries measured as they happen, and
each app's own figures (queues, training, generation, chain, webhooks) read from the database at scrape time.

Apps register collectors from their AppConfig, as with health checks, so core never imports an app. A collector
is a function returning metric families (`prometheus_client.core.GaugeMetricFamily` …); one that raises is
skipped and counted in `atelier_metrics_collector_errors_total`, never a 500.

django-prometheus, the usual choice, supports Django < 6.1 only (2.5.0 is its newest release), so the request
and database metrics are measured here with `prometheus_client` under the names it uses. Under gunicorn,
`PROMETHEUS_MULTIPROC_DIR` (set by `make run`'s supervisor) makes every web process's counters add up.

Access: a `Bearer` token equal to `METRICS_TOKEN`, or a client address in `METRICS_ALLOWED_IPS` (loopback by
default outside production); anyone else gets a 404, as if the endpoint did not exist.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric

logger = logging.getLogger("atelier.metrics")

Collector = Callable[[], Iterable[Metric]]
_COLLECTORS: dict[str, Collector] = {}
_collector_errors: dict[str, int] = {}

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

requests_total = Counter(
    "django_http_requests_total_by_view_transport_method",
    "Requests by view, transport and method.",
    ["view", "transport", "method"],
)
responses_total = Counter(
    "django_http_responses_total_by_status_view_method",
    "Responses by status, view and method.",
    ["status", "view", "method"],
)
request_latency = Histogram(
    "django_http_requests_latency_seconds_by_view_method",
    "Request latency by view and method.",
    ["view", "method"],
    buckets=LATENCY_BUCKETS,
)
exceptions_total = Counter("django_http_exceptions_total_by_view", "Unhandled exceptions by view.", ["view"])
db_executions_total = Counter(
    "django_db_execute_total", "Database statements executed, by alias and vendor.", ["alias", "vendor"]
)
db_errors_total = Counter(
    "django_db_errors_total", "Database statements that raised, by alias, vendor and type.", ["alias", "vendor", "type"]
)
db_latency = Histogram(
    "django_db_query_duration_seconds",
    "Database statement duration, by alias and vendor.",
    ["alias", "vendor"],
    buckets=LATENCY_BUCKETS,
)


def register_metrics_collector(name: str, collector: Collector) -> None:
    _COLLECTORS[name] = collector


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return "<unresolved>"
    return match.view_name or "<unnamed>"


_query_metrics: dict[tuple[str, str], tuple[Any, Any]] = {}


def _query_metrics_of(alias: str, vendor: str) -> tuple[Any, Any]:
    """The (executions, latency) children of a connection: labelled once per process, not on every statement."""
    children = _query_metrics.get((alias, vendor))
    if children is None:
        children = _query_metrics[alias, vendor] = (
            db_executions_total.labels(alias, vendor),
            db_latency.labels(alias, vendor),
        )
    return children


class _QueryTimer:
    def __init__(self, alias: str, vendor: str) -> None:
        self.alias, self.vendor = alias, vendor
        self.executions, self.latency = _query_metrics_of(alias, vendor)

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        except Exception as error:
            db_errors_total.labels(self.alias, self.vendor, type(error).__name__).inc()
            raise
        finally:
            self.executions.inc()
            self.latency.observe(time.perf_counter() - started)


class RequestMetricsMiddleware:
    """Counts and times each request, and each database statement it runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        with _timed_queries():
            try:
                response = self.get_response(request)
            except Exception:
                exceptions_total.labels(_view_name(request)).inc()
                raise
        view, method = _view_name(request), request.method or "-"
        requests_total.labels(view, "https" if request.is_secure() else "http", method).inc()
        responses_total.labels(str(response.status_code), view, method).inc()
        request_latency.labels(view, method).observe(time.perf_counter() - started)
        return response


class _timed_queries:
    """Installs a query timer on every configured connection for the duration (Django's execute_wrapper)."""

    def __enter__(self) -> None:
        self._wrappers = []
        for alias in settings.DATABASES:
            connection = connections[alias]
            wrapper = connection.execute_wrapper(_QueryTimer(alias, connection.vendor))
            wrapper.__enter__()
            self._wrappers.append(wrapper)

    def __exit__(self, *exc: object) -> None:
        for wrapper in reversed(self._wrappers):
            wrapper.__exit__(*exc)


def _collect_apps() -> Iterable[Metric]:
    for name, collector in _COLLECTORS.items():
        try:
            yield from list(collector())
        except Exception:
            logger.exception("metrics collector %s raised", name)
            _collector_errors[name] = _collector_errors.get(name, 0) + 1
    errors = CounterMetricFamily(
        "atelier_metrics_collector_errors", "Scrapes in which a collector raised.", labels=["collector"]
    )
    for name in _COLLECTORS:
        errors.add_metric([name], _collector_errors.get(name, 0))
    yield errors


class _AppCollector:
    def collect(self) -> Iterable[Metric]:
        return _collect_apps()


def render_metrics() -> bytes:
    """The whole exposition: this process's (or, under gunicorn, every web process's) counters, then the apps'."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    app_registry = CollectorRegistry()
    app_registry.register(_AppCollector())
    return generate_latest(registry) + generate_latest(app_registry)


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_IPS)


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if request.method != "GET" or not _allowed(request):
        raise Http404
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)
