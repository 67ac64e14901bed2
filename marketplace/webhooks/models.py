"""Webhook endpoints (where a user wants events sent), deliveries (one event to one endpoint) and attempts."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.crypto import EncryptedTextField
from core.models import BaseModel, DomainEvent, JobMixin


class DisabledReason(models.TextChoices):
    MANUAL = "manual", "Disabled by hand"
    FAILING = "failing", "Disabled after consecutive failures"


class WebhookEndpoint(BaseModel):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.CharField(max_length=2048)
    description = models.CharField(max_length=500, blank=True)
    events = models.JSONField(default=list, help_text="Event types or patterns: 'order.paid', 'order.*', '*'.")
    secret = EncryptedTextField()  # Fernet-encrypted at rest (core/crypto.py)
    # After a rotation the previous secret keeps signing (alongside the new one) until it expires.
    previous_secret = EncryptedTextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True, db_index=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=16, choices=DisabledReason.choices, blank=True)
    disabled_detail = models.CharField(max_length=500, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "is_active"], name="webhook_endpoint_owner_active")]

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self, *, now: datetime | None = None) -> list[str]:
        now = now or timezone.now()
        live_previous = (
            self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now
        )
        return [self.secret, self.previous_secret] if live_previous else [self.secret]


class WebhookDelivery(BaseModel, JobMixin):
    """One message to one endpoint. Its JobMixin state is the current attempt series: queued (waiting for a
    first try or a retry), running, succeeded, failed (attempts used up, or the endpoint was disabled)."""

    job_task_path = "marketplace.webhooks.tasks.deliver_webhook_task"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # Null for `webhook.test` messages, which belong to no domain event.
    event = models.ForeignKey(DomainEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    msg_id = models.CharField(max_length=64, help_text="Sent as webhook-id; the same on every attempt.")
    event_type = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField(help_text="The JSON body, exactly as signed and sent.")
    series = models.PositiveSmallIntegerField(default=1, help_text="1, then +1 for each redelivery by hand.")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once_per_event"),
        ]
        indexes = [models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint_new")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.state})"


class WebhookDeliveryAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField(help_text="1, 2, … over the delivery's whole life.")
    series = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(default=0)
    response_body = models.TextField(blank=True, help_text="The start of the receiver's answer.")
    error = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_unique"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"
