"""Staff views of commissions: read-mostly (state changes go through the services and their rules)."""

from django.contrib import admin

from marketplace.commissions.models import Commission, CommissionEvent, Delivery, Offer


class OfferInline(admin.TabularInline):
    model = Offer
    extra = 0
    can_delete = False
    fields = ["public_id", "artist", "price", "currency", "revisions", "delivery_by", "state", "decided_at"]
    readonly_fields = fields


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["public_id", "number", "state", "generation_job", "failure_reason", "delivered_at", "reviewed_at"]
    readonly_fields = fields


class EventInline(admin.TabularInline):
    model = CommissionEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "from_state", "to_state", "actor", "actor_role", "note"]
    readonly_fields = fields


@admin.register(Commission)
class CommissionAdmin(admin.ModelAdmin):
    list_display = ["public_id", "title", "client", "artist", "state", "budget", "price", "currency", "due_at"]
    list_filter = ["state", "currency"]
    search_fields = ["public_id", "title", "client__email", "artist__email"]
    date_hierarchy = "created_at"
    inlines = [OfferInline, DeliveryInline, EventInline]
    readonly_fields = [
        "public_id",
        "client",
        "artist",
        "target_artist",
        "target_model",
        "state",
        "state_changed_at",
        "accepted_offer",
        "price",
        "platform_fee",
        "revisions_allowed",
        "revisions_used",
        "payment",
        "budget",
        "currency",
        "deadline",
        "due_at",
        "created_at",
        "updated_at",
    ]
    fields = ["public_id", "title", "description", "style", *readonly_fields[1:]]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
