"""The staff dashboard: sales, revenue, subscriptions, jobs, training runs and the chain at a glance."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from marketplace.dashboard.charts import Series, bar_chart
from marketplace.dashboard.selectors import dashboard_overview
from provenance import services as provenance_services

JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")


def _money(minor: int) -> float:
    return minor / 100


def dashboard(request: HttpRequest) -> HttpResponse:
    overview = dashboard_overview(days=30)
    money = overview["money"]
    labels = [day.strftime("%d %b") for day in money["days"]]
    revenue_series = [
        Series(name, [_money(by_day[day]) for day in money["days"]])
        for name, by_day in sorted(money["revenue"].items())
    ] or [Series("revenue", [0] * len(labels))]
    job_groups = {
        "training runs": overview["jobs"]["training_runs"],
        "generation jobs": overview["jobs"]["generation_jobs"],
        "webhook deliveries": overview["jobs"]["webhook_deliveries"],
    }
    states = list(JOB_STATES) + sorted({s for group in job_groups.values() for s in group} - set(JOB_STATES))
    charts = {
        "sales": bar_chart(
            title="Gallery sales per day (paid orders)",
            labels=labels,
            series=[Series("orders", [money["sales"][day] for day in money["days"]])],
        ),
        "revenue": bar_chart(title="Revenue per day (net of refunds)", labels=labels, series=revenue_series),
        "subscriptions": bar_chart(
            title="Active subscriptions by plan",
            labels=list(overview["subscriptions"]),
            series=[Series("subscriptions", list(overview["subscriptions"].values()))],
        ),
        "jobs": bar_chart(
            title="Jobs by state",
            labels=states,
            series=[Series(name, [group.get(state, 0) for state in states]) for name, group in job_groups.items()],
        ),
    }
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "overview": overview,
        "charts": charts,
        "revenue_totals": {currency: _money(total) for currency, total in money["totals"].items()},
        "active_subscriptions": sum(overview["subscriptions"].values()),
    }
    return TemplateResponse(request, "dashboard/index.html", context)


@require_POST
def gas_breaker_reset(request: HttpRequest) -> HttpResponse:
    """Close the gas breaker and start a fresh budget window (needs the change permission on the breaker)."""
    if not request.user.has_perm("provenance.change_gasbreaker"):
        raise PermissionDenied("Resetting the gas budget needs the change permission on gas breakers.")
    provenance_services.gas_breaker_reset(chain_id=settings.CHAIN_ID, actor=f"staff:{request.user.email}")
    messages.warning(request, "Gas budget reset: the sender resumes now, with a fresh budget for the rest of the day.")
    return redirect("dashboard")
