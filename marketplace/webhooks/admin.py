from django.contrib import admin, messages

from core.errors import AtelierError
from marketplace.webhooks import services
from marketplace.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = [
        "url",
        "owner",
        "is_active",
        "events",
        "consecutive_failures",
        "disabled_reason",
        "last_success_at",
        "last_failure_at",
        "created_at",
    ]
    list_filter = ["is_active", "disabled_reason"]
    search_fields = ["url", "description", "owner__email", "public_id"]
    raw_id_fields = ["owner"]
    # URLs are vetted (SSRF) and secrets shown once through the API; staff change state through the actions.
    readonly_fields = [
        "public_id",
        "owner",
        "url",
        "events",
        "is_active",
        "disabled_at",
        "disabled_reason",
        "disabled_detail",
        "consecutive_failures",
        "failing_since",
        "last_success_at",
        "last_failure_at",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
    ]
    exclude = ["secret", "previous_secret"]
    actions = ["disable", "enable"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Disable selected endpoints")
    def disable(self, request, queryset):
        for endpoint in queryset:
            services.webhook_endpoint_disable(endpoint=endpoint, detail=f"Disabled by staff ({request.user}).")
        self.message_user(request, f"Disabled {queryset.count()} endpoints.")

    @admin.action(description="Enable selected endpoints (clears the failure streak)")
    def enable(self, request, queryset):
        for endpoint in queryset:
            services.webhook_endpoint_enable(endpoint=endpoint)
        self.message_user(request, f"Enabled {queryset.count()} endpoints.")


class AttemptInline(admin.TabularInline):
    model = WebhookDeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["number", "series", "created_at", "succeeded", "status_code", "response_ms", "error", "response_body"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "event_type",
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["state", "event_type"]
    search_fields = ["msg_id", "public_id", "endpoint__url", "endpoint__owner__email"]
    list_select_related = ["endpoint"]
    readonly_fields = [
        "public_id",
        "endpoint",
        "event",
        "msg_id",
        "event_type",
        "payload",
        "series",
        "state",
        "attempts",
        "max_attempts",
        "next_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "queued_at",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "worker",
        "task_id",
        "cancel_requested",
        "created_at",
        "updated_at",
    ]
    inlines = [AttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Redeliver selected deliveries")
    def redeliver(self, request, queryset):
        sent, skipped = 0, []
        for delivery in queryset:
            try:
                services.webhook_delivery_redeliver(delivery=delivery)
                sent += 1
            except AtelierError as exc:
                skipped.append(f"{delivery.public_id}: {exc.detail}")
        self.message_user(request, f"Redelivering {sent} deliveries.")
        if skipped:
            self.message_user(request, "Skipped " + "; ".join(skipped), level=messages.WARNING)
