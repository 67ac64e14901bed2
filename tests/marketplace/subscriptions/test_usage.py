import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import Conflict, InvalidInput, QuotaExceeded, problem_exception_handler
from generation.metering import GENERATION, TRAINING, Limits, get_meter
from marketplace.subscriptions import services
from marketplace.subscriptions.metering import SubscriptionMeter
from marketplace.subscriptions.models import Subscription, UsageEntry
from marketplace.subscriptions.selectors import subscription_quotas
from tests.marketplace.subscriptions.helpers import T0


def remaining(user, kind="generation"):
    return subscription_quotas(subscription=services.subscription_current(user=user))[kind].remaining


@pytest.mark.django_db
def test_consumption_is_a_ledger_row_and_remaining_is_derived_from_it(user):
    meter = SubscriptionMeter()
    meter.consume(user=user, kind=GENERATION, units=8, reference="job:a")
    meter.consume(user=user, kind=GENERATION, units=2, reference="job:b")
    meter.consume(user=user, kind=TRAINING, units=1, reference="run:a")
    assert remaining(user) == 40 and remaining(user, "training") == 0
    rows = list(UsageEntry.objects.order_by("created_at", "id").values_list("kind", "units", "reference"))
    assert rows == [("generation", 8, "job:a"), ("generation", 2, "job:b"), ("training", 1, "run:a")]
    subscription = services.subscription_current(user=user)
    assert {entry.period_start for entry in UsageEntry.objects.all()} == {subscription.current_period_start}


@pytest.mark.django_db
def test_exhausted_quota_is_429_with_remaining_limit_resets_at_and_retry_after(user):
    now = T0 + timedelta(days=3)
    subscription = services.subscription_current(user=user, now=T0)
    services.usage_consume(user=user, kind="generation", units=45, reference="job:1", now=now)
    with pytest.raises(QuotaExceeded) as error:
        services.usage_consume(user=user, kind="generation", units=6, reference="job:2", now=now)
    response = problem_exception_handler(error.value, {})
    assert response.status_code == 429
    assert response.data["code"] == "quota_exceeded"
    assert {key: response.data[key] for key in ("kind", "limit", "remaining", "requested")} == {
        "kind": "generation",
        "limit": 50,
        "remaining": 5,
        "requested": 6,
    }
    assert response.data["resets_at"] == subscription.current_period_end.isoformat().replace("+00:00", "Z")
    assert int(response["Retry-After"]) == int((subscription.current_period_end - now).total_seconds())
    assert UsageEntry.objects.count() == 1  # nothing recorded for the refused request
    services.usage_consume(user=user, kind="generation", units=5, reference="job:3", now=now)  # exactly the rest


@pytest.mark.django_db
def test_meter_from_settings_is_the_subscription_meter(user, settings):
    settings.GENERATION_METER = "marketplace.subscriptions.metering.SubscriptionMeter"
    meter = get_meter()
    assert isinstance(meter, SubscriptionMeter)
    assert meter.limits(user=user) == Limits(
        max_resolution=256,
        max_dataset_images=500,
        max_dataset_bytes=200 * 1024**2,
        max_training_minutes=30,
        max_training_work=500_000_000_000,
    )
    with pytest.raises(QuotaExceeded):
        meter.consume(user=user, kind=TRAINING, units=2, reference="run:big")


@pytest.mark.django_db
def test_limits_follow_the_plan_and_create_nothing(user, on_plan):
    assert SubscriptionMeter().limits(user=user).max_resolution == 256
    assert not Subscription.objects.filter(user=user).exists()
    on_plan(user, "studio", start=timezone.now())
    assert SubscriptionMeter().limits(user=user).max_resolution == 1024


@pytest.mark.django_db
def test_refund_is_capped_at_what_was_consumed_and_idempotent_per_reference(user):
    services.usage_consume(user=user, kind="generation", units=5, reference="job:1")
    first = services.usage_refund(user=user, kind="generation", units=10, reference="job:1")
    assert first.units == -5 and first.type == "refund"
    assert services.usage_refund(user=user, kind="generation", units=5, reference="job:1") is None
    SubscriptionMeter().refund(user=user, kind=GENERATION, units=5, reference="job:1")
    assert remaining(user) == 50
    assert UsageEntry.objects.filter(type="refund").count() == 1


@pytest.mark.django_db
def test_partial_refund_gives_back_only_the_unused_part(user):
    services.usage_consume(user=user, kind="generation", units=10, reference="job:1")
    services.usage_refund(user=user, kind="generation", units=3, reference="job:1")
    assert remaining(user) == 43


@pytest.mark.django_db
def test_refunding_a_reference_that_consumed_nothing_is_a_no_op(user):
    assert services.usage_refund(user=user, kind="generation", units=3, reference="never") is None
    services.usage_consume(user=user, kind="training", units=1, reference="run:1")
    assert services.usage_refund(user=user, kind="generation", units=1, reference="run:1") is None
    assert not UsageEntry.objects.filter(type="refund").exists()


@pytest.mark.django_db
def test_consuming_the_same_reference_twice_is_409(user):
    services.usage_consume(user=user, kind="generation", units=1, reference="job:1")
    with pytest.raises(Conflict) as error:
        services.usage_consume(user=user, kind="generation", units=1, reference="job:1")
    assert error.value.code == "usage_reference_reused"
    assert remaining(user) == 49


@pytest.mark.django_db
@pytest.mark.parametrize("kwargs", [{"kind": "nope"}, {"units": 0}, {"units": -3}, {"units": True}, {"reference": ""}])
def test_bad_consumption_input_is_400(user, kwargs):
    with pytest.raises(InvalidInput):
        services.usage_consume(user=user, **({"kind": "generation", "units": 1, "reference": "r"} | kwargs))
    assert not UsageEntry.objects.exists()


@pytest.mark.django_db
def test_usage_endpoint_lists_my_current_period(user_client, user, make_user):
    services.usage_consume(user=user, kind="generation", units=3, reference="job:mine")
    services.usage_consume(user=user, kind="training", units=1, reference="run:mine")
    services.usage_consume(user=make_user(), kind="generation", units=1, reference="job:theirs")
    body = user_client.get("/api/v1/usage").json()
    assert sorted(entry["reference"] for entry in body["results"]) == ["job:mine", "run:mine"]
    only = user_client.get("/api/v1/usage?kind=training").json()["results"]
    assert [entry["units"] for entry in only] == [1]
    assert user_client.get("/api/v1/usage?kind=bogus").status_code == 400


@pytest.mark.django_db
def test_subscription_shows_remaining_quotas_and_reset_time(user_client, user):
    services.usage_consume(user=user, kind="generation", units=12, reference="job:1")
    quotas = user_client.get("/api/v1/subscription").json()["quotas"]
    assert quotas["generation"]["remaining"] == 38 and quotas["generation"]["used"] == 12
    assert quotas["training"] == {"limit": 1, "used": 0, "remaining": 1, "resets_at": quotas["generation"]["resets_at"]}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_hundred_threads_with_ten_units_left_exactly_ten_succeed(make_user):
    """100 real threads race for the last 10 generations of the free plan (limit 50)."""
    user = make_user()
    services.usage_consume(user=user, kind="generation", units=40, reference="warm-up")
    meter = SubscriptionMeter()
    threads_count = 100
    barrier = threading.Barrier(threads_count)
    # PostgreSQL allows 100 connections in all: at most 30 threads hold one at a time; all 100 still race.
    connections = threading.BoundedSemaphore(30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def consume(n: int) -> None:
        barrier.wait()
        with connections:
            try:
                meter.consume(user=user, kind=GENERATION, units=1, reference=f"job:{n}")
                outcome = "ok"
            except QuotaExceeded:
                outcome = "quota"
            except Exception as exc:  # noqa: BLE001 - any other error is a test failure, reported below
                outcome = repr(exc)
            finally:
                connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=consume, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(outcomes)) == ["ok", "quota"], outcomes
    assert outcomes.count("ok") == 10 and outcomes.count("quota") == 90
    assert UsageEntry.objects.filter(user=user).count() == 11
    assert remaining(user) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_requests_create_one_free_subscription(make_user):
    user = make_user()
    barrier = threading.Barrier(20)
    ids: list[int] = []

    def read() -> None:
        barrier.wait()
        try:
            ids.append(services.subscription_current(user=user).pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 20 and len(set(ids)) == 1
    assert Subscription.objects.filter(user=user).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_of_one_reference_refund_once(make_user):
    user = make_user()
    services.usage_consume(user=user, kind="generation", units=7, reference="job:1")
    barrier = threading.Barrier(10)

    def refund() -> None:
        barrier.wait()
        try:
            services.usage_refund(user=user, kind="generation", units=7, reference="job:1")
        finally:
            connection.close()

    threads = [threading.Thread(target=refund) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert list(UsageEntry.objects.filter(type="refund").values_list("units", flat=True)) == [-7]


@pytest.mark.django_db
def test_usage_endpoint_can_show_earlier_periods(user_client, user):
    services.usage_consume(
        user=user, kind="generation", units=2, reference="job:old", now=timezone.now() - timedelta(days=40)
    )
    services.usage_consume(user=user, kind="generation", units=1, reference="job:new")
    current = [e["reference"] for e in user_client.get("/api/v1/usage").json()["results"]]
    everything = [e["reference"] for e in user_client.get("/api/v1/usage?period=all").json()["results"]]
    assert current == ["job:new"] and everything == ["job:new", "job:old"]
