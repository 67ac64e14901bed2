"""Queue priority by plan (`JOB_PRIORITY_HOOK`): jobs of paying subscribers start ahead of free ones. Waiting
raises every job's priority over time (core.jobs.tasks_age), so free work is delayed, never starved."""

from typing import Any

from marketplace.subscriptions.selectors import plan_for

PAID_PRIORITY = 10  # = 10 intervals of JOB_PRIORITY_AGING: how long a free job can wait behind fresh paid ones


def job_priority(job: Any) -> int:
    owner_id = getattr(job, "owner_id", None)
    if owner_id is None:
        return 0
    return 0 if plan_for(user=job.owner).is_free else PAID_PRIORITY
