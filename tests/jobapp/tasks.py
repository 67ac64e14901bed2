import time

from django.tasks import task

from core.jobs import run_job
from tests.jobapp.models import SleepJob


def _work(job: SleepJob, context) -> dict:
    if job.attempts <= job.fail_times:
        raise RuntimeError(f"planned failure on attempt {job.attempts}")
    deadline = time.monotonic() + job.seconds
    while time.monotonic() < deadline:
        context.heartbeat(progress=min(1.0, 1 - (deadline - time.monotonic()) / max(job.seconds, 1e-9)))
        time.sleep(0.05)
    with open(job.marker_path, "a") as marker:
        marker.write(f"done attempt={job.attempts}\n")
    return {"progress": 1.0}


@task(queue_name="default")
def run_sleep_job(pk: int) -> str:
    return run_job(model=SleepJob, pk=pk, work=_work)


def sleep_job_priority(job: SleepJob) -> int:
    """The test's JOB_PRIORITY_HOOK: a job whose marker file is named paid-* is a paying customer's."""
    return 10 if "paid-" in job.marker_path else 0
