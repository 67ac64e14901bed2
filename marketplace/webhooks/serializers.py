from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.jobs import JobState
from core.serializers import StrictSerializer
from marketplace.webhooks import conf
from marketplace.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from marketplace.webhooks.patterns import MAX_PATTERNS
from marketplace.webhooks.ssrf import MAX_URL_LENGTH

_STATES = ", ".join(JobState.values)


@extend_schema_field({"type": "string", "description": f"One of: {_STATES}."})
class DeliveryStateField(serializers.CharField):
    """Typed without an enum: core.jobs.JobState is shared with other apps' job rows, and drf-spectacular
    cannot name one enum for them all without an ENUM_NAME_OVERRIDES entry in settings."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)


_EVENTS_HELP = "Event types or patterns to receive: 'order.paid', 'order.*', or '*' for every event."


class WebhookEndpointSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "active",
            "disabled_at",
            "disabled_reason",
            "disabled_detail",
            "consecutive_failures",
            "last_success_at",
            "last_failure_at",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret (whsec_…). Shown only now.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(StrictSerializer):
    url = serializers.CharField(max_length=MAX_URL_LENGTH, trim_whitespace=False)
    events = serializers.ListField(
        child=serializers.CharField(max_length=64),
        max_length=MAX_PATTERNS,
        default=lambda: ["*"],
        help_text=_EVENTS_HELP,
    )
    description = serializers.CharField(max_length=500, allow_blank=True, default="")


class WebhookEndpointUpdateSerializer(StrictSerializer):
    url = serializers.CharField(max_length=MAX_URL_LENGTH, trim_whitespace=False, required=False)
    events = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=MAX_PATTERNS, required=False, help_text=_EVENTS_HELP
    )
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    active = serializers.BooleanField(
        required=False, help_text="false disables; true re-enables and clears the failure streak."
    )


class RotateSecretSerializer(StrictSerializer):
    previous_secret_expires_in = serializers.IntegerField(
        min_value=0,
        max_value=7 * 24 * 3600,
        default=int(conf.SECRET_ROTATION_GRACE.total_seconds()),
        help_text="Seconds the old secret keeps signing alongside the new one (0 revokes it at once).",
    )


class WebhookDeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDeliveryAttempt
        fields = ["number", "series", "created_at", "succeeded", "status_code", "response_ms", "response_body", "error"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    endpoint_id = serializers.UUIDField(source="endpoint.public_id", read_only=True)
    message_id = serializers.CharField(source="msg_id", read_only=True, help_text="The webhook-id header.")
    attempt_count = serializers.IntegerField(source="attempts", read_only=True)
    state = DeliveryStateField()

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint_id",
            "message_id",
            "event_type",
            "state",
            "attempt_count",
            "series",
            "next_attempt_at",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    attempts = WebhookDeliveryAttemptSerializer(source="attempt_log", many=True, read_only=True)

    class Meta(WebhookDeliverySerializer.Meta):
        fields = [*WebhookDeliverySerializer.Meta.fields, "payload", "attempts"]
        read_only_fields = fields


class DeliveryFilterSerializer(serializers.Serializer):
    """Query-string filters (other parameters, such as the cursor, belong to the paginator)."""

    state = serializers.ChoiceField(choices=JobState.choices, required=False)
    event_type = serializers.CharField(max_length=64, required=False)
