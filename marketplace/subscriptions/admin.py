from django.contrib import admin, messages

from core.admin import ActionAdmin, ReadOnlyAdmin, ReadOnlyInline
from core.errors import AtelierError
from marketplace.subscriptions import services
from marketplace.subscriptions.models import (
    LedgerEntry,
    Payment,
    PaymentEvent,
    PaymentPurpose,
    PaymentRefund,
    Payout,
    PayoutState,
    Plan,
    ProcessedWebhookEvent,
    Subscription,
    SubscriptionEvent,
    SubscriptionState,
    UsageEntry,
)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "price",
        "currency",
        "period",
        "rank",
        "generations_per_period",
        "training_runs_per_period",
        "max_resolution",
        "allows_commercial_licences",
        "is_public",
    ]
    list_filter = ["is_public", "period", "allows_commercial_licences"]
    search_fields = ["code", "name"]
    readonly_fields = ["public_id", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # Subscriptions and the free-plan fallback find plans by code: it is fixed once created.
        return [*self.readonly_fields, "code"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # subscriptions keep pointing at old plans; hide a plan with is_public instead


class SubscriptionEventInline(ReadOnlyInline):
    model = SubscriptionEvent
    fields = ["created_at", "type", "from_state", "to_state", "actor", "data"]
    readonly_fields = fields


@admin.register(Subscription)
class SubscriptionAdmin(ActionAdmin):
    list_display = [
        "user",
        "plan",
        "state",
        "current_period_end",
        "cancel_at_period_end",
        "pending_plan",
        "failed_payment_attempts",
        "next_payment_attempt_at",
    ]
    list_filter = ["state", "plan", "cancel_at_period_end"]
    search_fields = ["user__email", "public_id"]
    list_select_related = ["user", "plan", "pending_plan"]
    inlines = [SubscriptionEventInline]
    actions = ["cancel_now", "renew_now"]

    @admin.action(description="Cancel now (falls back to the free plan, no refund)")
    def cancel_now(self, request, queryset):
        ended = sum(services.subscription_cancel_now(subscription=s, actor=request.user) is not None for s in queryset)
        self.message_user(request, f"Cancelled {ended} subscriptions.")

    @admin.action(description="Renew now (charge due and past-due subscriptions at once)")
    def renew_now(self, request, queryset):
        done = failed = 0
        for subscription in queryset.exclude(state=SubscriptionState.CANCELLED):
            try:
                services.subscription_renew(subscription=subscription, force=True)
                done += 1
            except AtelierError as exc:
                failed += 1
                self.message_user(request, f"{subscription}: {exc.detail}", level=messages.WARNING)
        self.message_user(
            request,
            f"Renewal run for {done} subscriptions ({failed} errors); "
            "subscriptions whose period has not ended are left as they are.",
        )


@admin.register(UsageEntry)
class UsageEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "kind", "type", "units", "reference", "period_start"]
    list_filter = ["kind", "type"]
    search_fields = ["user__email", "reference"]
    list_select_related = ["user"]


class PaymentEventInline(ReadOnlyInline):
    model = PaymentEvent
    fields = ["created_at", "type", "from_state", "to_state", "actor", "data"]
    readonly_fields = fields


class PaymentRefundInline(ReadOnlyInline):
    model = PaymentRefund
    fields = ["created_at", "amount", "state", "provider_reference", "reason", "failure_reason", "requested_by"]
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(ActionAdmin):
    list_display = [
        "created_at",
        "payer",
        "amount",
        "currency",
        "state",
        "purpose",
        "reference",
        "provider",
        "amount_refunded",
    ]
    list_filter = ["state", "purpose", "provider", "currency"]
    search_fields = ["payer__email", "reference", "provider_reference", "public_id"]
    list_select_related = ["payer"]
    inlines = [PaymentRefundInline, PaymentEventInline]
    actions = ["refund"]

    @admin.action(description="Refund in full what is still refundable")
    def refund(self, request, queryset):
        refunded = 0
        for payment in queryset:
            if payment.purpose in (PaymentPurpose.ORDER, PaymentPurpose.COMMISSION):
                # Refunding the money alone would leave the licence active and the artist's credit standing.
                self.message_user(
                    request,
                    f"{payment}: refund it from its {payment.purpose} ({payment.reference}), "
                    "which also revokes what it bought.",
                    level=messages.WARNING,
                )
                continue
            try:
                services.payment_refund(payment=payment, reason="refunded by staff", actor=request.user)
                refunded += 1
            except AtelierError as exc:
                self.message_user(request, f"{payment}: {exc.detail}", level=messages.WARNING)
        self.message_user(request, f"Refunded {refunded} payments.")


@admin.register(ProcessedWebhookEvent)
class ProcessedWebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "type", "event_id", "outcome"]
    list_filter = ["provider", "type"]
    search_fields = ["event_id"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "amount", "currency", "reference", "memo"]
    list_filter = ["currency"]
    search_fields = ["user__email", "reference"]
    list_select_related = ["user"]


@admin.register(Payout)
class PayoutAdmin(ActionAdmin):
    """Staff send pending payouts with the provider's own tools, then mark them here."""

    list_display = ["public_id", "user", "amount", "currency", "state", "provider", "created_at", "paid_at"]
    list_filter = ["state", "currency", "provider"]
    search_fields = ["user__email", "public_id", "provider_reference"]
    list_select_related = ["user"]
    actions = ["mark_paid", "mark_failed"]

    def _each_pending(self, request, queryset, settle) -> None:
        done = 0
        for payout in queryset.filter(state=PayoutState.PENDING):
            try:
                settle(payout)
                done += 1
            except AtelierError as exc:
                self.message_user(request, f"{payout.public_id}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"{done} payout(s) updated.", messages.SUCCESS)

    @admin.action(description="Mark as paid (sent outside Atelier)")
    def mark_paid(self, request, queryset):
        self._each_pending(request, queryset, lambda p: services.payout_mark_paid(payout=p, actor=request.user))

    @admin.action(description="Mark as failed (credits the amount back to the ledger)")
    def mark_failed(self, request, queryset):
        self._each_pending(
            request,
            queryset,
            lambda p: services.payout_mark_failed(payout=p, actor=request.user, reason="marked failed by staff"),
        )
