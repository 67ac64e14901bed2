from django.db import models

from core.models import BaseModel, JobMixin


class SleepJob(BaseModel, JobMixin):
    """Sleeps `seconds` (heart-beating), then appends a line to `marker_path`: the line count is how many
    times the work completed."""

    job_task_path = "tests.jobapp.tasks.run_sleep_job"

    seconds = models.FloatField(default=0)
    marker_path = models.CharField(max_length=500)
    fail_times = models.PositiveSmallIntegerField(default=0)
    progress = models.FloatField(default=0)
