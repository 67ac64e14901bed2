"""Metrics of the task queues and of every job table: depth and oldest waiting age per queue, running tasks,
task outcomes and recent durations, and the state of each domain job kind (training runs, generation jobs…)."""

from collections.abc import Iterable
from statistics import median

from django.apps import apps
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from core.jobs import JobMixin

RECENT_SECONDS = 3600
RECENT_ROWS = 5000


def collect() -> Iterable[Metric]:
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    depth = GaugeMetricFamily("atelier_queue_depth", "Tasks ready to run, by queue.", labels=["queue"])
    oldest = GaugeMetricFamily(
        "atelier_queue_oldest_age_seconds", "Age of the oldest task waiting, by queue.", labels=["queue"]
    )
    running = GaugeMetricFamily("atelier_queue_running", "Tasks running now, by queue.", labels=["queue"])
    ready = Q(status="READY") & (Q(run_after=get_date_max()) | Q(run_after__lte=now))  # max date: "no delay"
    rows = DBTaskResult.objects.values("queue_name").annotate(
        ready=Count("id", filter=ready),
        running=Count("id", filter=Q(status="RUNNING")),
        oldest=Min("enqueued_at", filter=ready),
    )
    for row in rows:
        depth.add_metric([row["queue_name"]], row["ready"])
        running.add_metric([row["queue_name"]], row["running"])
        oldest.add_metric([row["queue_name"]], (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0)
    yield from (depth, oldest, running)

    outcomes = GaugeMetricFamily(
        "atelier_task_results", "Task rows by queue and status (kept until pruned).", labels=["queue", "status"]
    )
    for row in DBTaskResult.objects.values("queue_name", "status").annotate(n=Count("id")):
        outcomes.add_metric([row["queue_name"], row["status"]], row["n"])
    yield outcomes

    durations = GaugeMetricFamily(
        "atelier_task_duration_seconds",
        f"Run time of tasks finished in the last {RECENT_SECONDS} s, by task.",
        labels=["queue", "task", "quantile"],
    )
    recent = (
        DBTaskResult.objects.filter(
            finished_at__gte=now - timezone.timedelta(seconds=RECENT_SECONDS), started_at__isnull=False
        )
        .order_by("-finished_at")
        .values_list("queue_name", "task_path", "started_at", "finished_at")[:RECENT_ROWS]
    )
    by_task: dict[tuple[str, str], list[float]] = {}
    for queue, task, started, finished in recent:
        by_task.setdefault((queue, task), []).append((finished - started).total_seconds())
    for (queue, task), values in sorted(by_task.items()):
        durations.add_metric([queue, task, "0.5"], median(values))
        durations.add_metric([queue, task, "1"], max(values))
    yield durations

    jobs = GaugeMetricFamily("atelier_jobs", "Domain job rows by kind and state.", labels=["kind", "state"])
    for model in apps.get_models():
        if issubclass(model, JobMixin) and not model._meta.abstract:
            kind = model._meta.label_lower
            for row in model.objects.values("state").annotate(n=Count("pk")):
                jobs.add_metric([kind, row["state"]], row["n"])
    yield jobs
