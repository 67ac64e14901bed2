from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import StrictSerializer
from marketplace.subscriptions.models import LedgerEntry, Payment, Plan, Subscription, UsageEntry, UsageKind


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = [
            "code",
            "name",
            "description",
            "price",
            "currency",
            "period",
            "trial_days",
            "generations_per_period",
            "training_runs_per_period",
            "max_resolution",
            "max_dataset_images",
            "max_dataset_bytes",
            "publications_per_period",
            "allows_commercial_licences",
        ]
        read_only_fields = fields


class QuotaSerializer(serializers.Serializer):
    limit = serializers.IntegerField(allow_null=True, read_only=True, help_text="null: unlimited")
    used = serializers.IntegerField(read_only=True)
    remaining = serializers.IntegerField(allow_null=True, read_only=True)
    resets_at = serializers.DateTimeField(allow_null=True, read_only=True)


class QuotasSerializer(serializers.Serializer):
    generation = QuotaSerializer(read_only=True)
    training = QuotaSerializer(read_only=True)
    publication = QuotaSerializer(read_only=True)


class PaymentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    client_secret = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "id",
            "amount",
            "currency",
            "state",
            "provider",
            "purpose",
            "reference",
            "description",
            "failure_code",
            "failure_reason",
            "amount_refunded",
            "client_secret",
            "created_at",
            "succeeded_at",
        ]
        read_only_fields = fields

    def get_client_secret(self, payment: Payment) -> str | None:
        return payment.client_secret if payment.state == "requires_action" else None


class SubscriptionSerializer(serializers.ModelSerializer):
    """Built from a subscription plus `quotas` (a dict of selectors.Quota) passed in the context."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    plan = PlanSerializer(read_only=True)
    pending_plan = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    has_payment_method = serializers.SerializerMethodField()
    pending_payment = PaymentSerializer(read_only=True, allow_null=True)
    quotas = serializers.SerializerMethodField()

    class Meta:
        model = Subscription
        fields = [
            "id",
            "plan",
            "state",
            "current_period_start",
            "current_period_end",
            "trial_end",
            "cancel_at_period_end",
            "pending_plan",
            "next_payment_attempt_at",
            "has_payment_method",
            "pending_payment",
            "quotas",
            "created_at",
        ]
        read_only_fields = fields

    def get_has_payment_method(self, subscription: Subscription) -> bool:
        return bool(subscription.payment_method)

    @extend_schema_field(QuotasSerializer)
    def get_quotas(self, subscription: Subscription) -> dict:
        return QuotasSerializer(self.context["quotas"]).data


class SubscriptionChangeSerializer(StrictSerializer):
    plan = serializers.SlugField(max_length=32)
    payment_method = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class EmptySerializer(StrictSerializer):
    """Actions take no body; any key is rejected."""


class PlanChangeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=["upgraded", "trial_started", "downgrade_scheduled", "kept", "renewed", "requires_action"],
        read_only=True,
    )
    subscription = SubscriptionSerializer(read_only=True)
    payment = PaymentSerializer(read_only=True, allow_null=True)


class UsageEntrySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = UsageEntry
        fields = ["id", "kind", "type", "units", "reference", "period_start", "created_at"]
        read_only_fields = fields


class UsageQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=UsageKind.choices, required=False)
    period = serializers.ChoiceField(choices=["current", "all"], default="current")


class LedgerEntrySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = LedgerEntry
        fields = ["id", "amount", "currency", "reference", "memo", "created_at"]
        read_only_fields = fields


class BalanceSerializer(serializers.Serializer):
    balances = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text="Minor units per ISO 4217 currency."
    )


class WebhookAckSerializer(serializers.Serializer):
    received = serializers.BooleanField(read_only=True)
    duplicate = serializers.BooleanField(read_only=True)
    event_id = serializers.CharField(read_only=True)
