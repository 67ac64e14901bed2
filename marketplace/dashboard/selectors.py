"""What the staff dashboard shows, gathered through each app's own selectors."""

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from generation import selectors as generation
from marketplace.subscriptions import selectors as subscriptions
from marketplace.webhooks import selectors as webhooks
from provenance import selectors as provenance


def _days(*, days: int) -> list[date]:
    today = timezone.now().date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def sales_and_revenue(*, days: int = 30) -> dict[str, Any]:
    """Per day: gallery sales (paid orders) and revenue by currency and purpose, net of refunds."""
    span = _days(days=days)
    since = timezone.make_aware(timezone.datetime.combine(span[0], timezone.datetime.min.time()))
    sales = dict.fromkeys(span, 0)
    revenue: dict[str, dict[date, int]] = defaultdict(lambda: dict.fromkeys(span, 0))
    totals: dict[str, int] = defaultdict(int)
    for row in subscriptions.revenue_per_day(since=since):
        if row["day"] not in sales:
            continue
        if row["purpose"] == "order":
            sales[row["day"]] += row["count"]
        revenue[f"{row['purpose']} ({row['currency']})"][row["day"]] += row["net"]
        totals[row["currency"]] += row["net"]
    return {
        "days": span,
        "sales": sales,
        "revenue": dict(revenue),
        "totals": dict(totals),
        "sales_total": sum(sales.values()),
    }


def dashboard_overview(*, days: int = 30) -> dict[str, Any]:
    jobs = generation.job_state_counts()
    return {
        "money": sales_and_revenue(days=days),
        "subscriptions": subscriptions.subscriptions_active_by_plan(),
        "jobs": {**jobs, "webhook_deliveries": webhooks.delivery_state_counts()},
        "training_runs": list(generation.training_runs_recent(limit=10)),
        "chain": provenance.chain_status(),
    }
