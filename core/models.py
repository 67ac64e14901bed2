"""Shared models: the base model every domain row extends, and core's own bookkeeping rows."""

import uuid

from django.conf import settings
from django.db import models

from core.jobs import JobMixin  # noqa: F401  (re-exported: domain apps import it from core.models)


class BaseModel(models.Model):
    """A public UUID for URLs (integer keys never leave the database) and aware UTC timestamps."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyKey(models.Model):
    """The first response to a POST carrying an `Idempotency-Key`, per user and key (Stripe's semantics)."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight"
        COMPLETED = "completed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class WorkerHeartbeat(models.Model):
    """One row per live `db_worker` process; a background thread refreshes `last_seen` every few seconds."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    queues = models.CharField(max_length=255)
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid} ({self.queues})"


class PeriodicTaskState(models.Model):
    """When each periodic task next runs; the scheduler claims due rows under a row lock."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True)
    last_task_id = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return self.name


class DomainEvent(BaseModel):
    """An outbox row for something that happened (see core/events.py); `dispatched_at` is set once fanned out."""

    type = models.CharField(max_length=64, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    payload = models.JSONField(default=dict)
    dispatched_at = models.DateTimeField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"
