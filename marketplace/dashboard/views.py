"""The staff dashboard: sales, revenue, subscriptions, jobs, training runs and the chain at a glance."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from marketplace.dashboard.charts import Series, bar_chart
from marketplace.dashboard.selectors import dashboard_overview

JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")


def _money(minor: int) -> float:
    return minor / 100


def dashboard(request: HttpRequest) -> HttpResponse:
    overview = dashboard_overview(days=30)
    money = overview["money"]
    labels = [day.strftime("%d %b") for day in money["days"]]
    revenue_series = [Series(name, [_money(by_day[day]) for day in money["days"]])
                      for name, by_day in sorted(money["revenue"].items())] or [Series("revenue", [0] * len(labels))]
    job_groups = {"training runs": overview["jobs"]["training_runs"],
                  "generation jobs": overview["jobs"]["generation_jobs"],
                  "webhook deliveries": overview["jobs"]["webhook_deliveries"]}
    states = list(JOB_STATES) + sorted({s for group in job_groups.values() for s in group} - set(JOB_STATES))
    charts = {
        "sales": bar_chart(title="Gallery sales per day (paid orders)", labels=labels,
                           series=[Series("orders", [money["sales"][day] for day in money["days"]])]),
        "revenue": bar_chart(title="Revenue per day (net of refunds)", labels=labels, series=revenue_series),
        "subscriptions": bar_chart(title="Active subscriptions by plan", labels=list(overview["subscriptions"]),
                                   series=[Series("subscriptions", list(overview["subscriptions"].values()))]),
        "jobs": bar_chart(title="Jobs by state", labels=states,
                          series=[Series(name, [group.get(state, 0) for state in states])
                                  for name, group in job_groups.items()]),
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
