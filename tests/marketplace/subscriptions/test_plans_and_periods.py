from datetime import UTC, datetime, timedelta

import pytest

from marketplace.subscriptions.models import Plan
from marketplace.subscriptions.periods import add_months, period_end_after, prorate


@pytest.mark.django_db
def test_seeded_plans_are_listed_publicly_cheapest_first(api):
    response = api.get("/api/v1/plans")
    assert response.status_code == 200
    body = response.json()
    assert [plan["code"] for plan in body] == ["free", "pro", "studio"]
    free, pro, studio = body
    assert (free["price"], pro["price"], studio["price"]) == (0, 1500, 4900)
    assert {plan["currency"] for plan in body} == {"USD"} and {plan["period"] for plan in body} == {"month"}
    assert free["allows_commercial_licences"] is False and pro["allows_commercial_licences"] is True
    assert free["generations_per_period"] < pro["generations_per_period"] < studio["generations_per_period"]
    assert free["max_resolution"] < pro["max_resolution"] < studio["max_resolution"]
    assert {"max_dataset_images", "max_dataset_bytes", "training_runs_per_period"} <= set(free)


@pytest.mark.django_db
def test_hidden_plan_is_neither_listed_nor_subscribable(api, user_client):
    Plan.objects.create(code="internal", name="Internal", price=100, rank=5, is_public=False)
    assert "internal" not in [plan["code"] for plan in api.get("/api/v1/plans").json()]
    response = user_client.post(
        "/api/v1/subscription", {"plan": "internal", "payment_method": "tok_visa"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_plan"


def test_months_clamp_to_the_last_day_without_drifting_from_the_anchor():
    anchor = datetime(2028, 1, 31, 12, tzinfo=UTC)
    assert add_months(anchor, 1) == datetime(2028, 2, 29, 12, tzinfo=UTC)
    first = period_end_after(anchor=anchor, moment=anchor, period="month")
    second = period_end_after(anchor=anchor, moment=first, period="month")
    assert (first, second) == (datetime(2028, 2, 29, 12, tzinfo=UTC), datetime(2028, 3, 31, 12, tzinfo=UTC))
    assert period_end_after(anchor=anchor, moment=anchor, period="year") == datetime(2029, 1, 31, 12, tzinfo=UTC)


def test_period_end_is_the_first_boundary_strictly_after_the_moment():
    anchor = datetime(2030, 5, 15, tzinfo=UTC)
    assert period_end_after(anchor=anchor, moment=datetime(2030, 9, 15, tzinfo=UTC), period="month") == datetime(
        2030, 10, 15, tzinfo=UTC
    )
    assert period_end_after(anchor=anchor, moment=datetime(2030, 9, 14, tzinfo=UTC), period="month") == datetime(
        2030, 9, 15, tzinfo=UTC
    )


def test_proration_is_exact_and_rounds_half_up():
    start = datetime(2031, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=30)
    assert prorate(amount=3400, start=start, end=end, now=start + timedelta(days=10)) == 2267  # 2266.67
    assert prorate(amount=3, start=start, end=start + timedelta(seconds=2), now=start + timedelta(seconds=1)) == 2
    assert prorate(amount=5, start=start, end=start + timedelta(seconds=4), now=start + timedelta(seconds=3)) == 1
    assert prorate(amount=3400, start=start, end=end, now=start) == 3400
    assert prorate(amount=3400, start=start, end=end, now=end + timedelta(days=1)) == 0
