from django.conf import settings
from django.db import models

from core.models import BaseModel


class DemoStep(models.TextChoices):
    TRAINING = "training"
    GENERATING = "generating"
    DONE = "done"
    FAILED = "failed"


class DemoRun(BaseModel):
    """The first-start demo's progress: train a tiny model, generate, publish, sell. One row at most."""

    step = models.CharField(max_length=12, choices=DemoStep.choices, default=DemoStep.TRAINING)
    artist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    training_run_id = models.UUIDField()
    generation_job_id = models.UUIDField(null=True, blank=True)
    artworks = models.JSONField(default=list)  # public ids of the published artworks
    detail = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"demo ({self.step})"
