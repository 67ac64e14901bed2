"""Commission HTTP shapes. Inputs are strict (unknown or read-only keys are a 400: nobody sets a state, a
client, an artist or a price paid); outputs list their fields. Money is integer minor units plus currency."""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import StrictSerializer
from marketplace.commissions.conf import DEFAULT_REVISIONS, MAX_AMOUNT, MAX_REVISIONS
from marketplace.commissions.models import (
    Commission,
    CommissionEvent,
    CommissionReference,
    CommissionState,
    Delivery,
    DeliveryImage,
    DeliveryState,
    Offer,
    OfferState,
)


def state_field(choices: Any, *, help_text: str = "", **kwargs: Any) -> serializers.CharField:
    """A state as a plain string in the schema: several apps have a `state` with different choices, and
    drf-spectacular cannot name those enums apart without ENUM_NAME_OVERRIDES in settings."""
    values = ", ".join(choices.values)

    # a subclass per field: annotating serializers.CharField itself would describe every string in the schema
    @extend_schema_field({"type": "string", "description": f"{help_text} One of: {values}.".strip()})
    class StateField(serializers.CharField):
        pass

    return StateField(**kwargs)


def _url(serializer: serializers.Serializer, name: str, **kwargs: Any) -> str:
    path = reverse(name, kwargs=kwargs)
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


def _viewer(serializer: serializers.Serializer) -> Any:
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class CommissionPartySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    display_name = serializers.CharField(read_only=True)


class CommissionPaymentSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    state = serializers.CharField(read_only=True)
    amount = serializers.IntegerField(read_only=True)
    currency = serializers.CharField(read_only=True)
    amount_refunded = serializers.IntegerField(read_only=True)
    client_secret = serializers.SerializerMethodField(help_text="For the payer's browser to finish 3-D Secure.")

    def get_client_secret(self, payment: Any) -> str | None:
        return payment.client_secret if payment.state == "requires_action" else None


# --- briefs ------------------------------------------------------------------------------------------------


class CommissionCreateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=10_000)
    style = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    budget = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT, help_text="Minor units (cents).")
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", help_text="ISO 4217, e.g. USD.")
    deadline = serializers.DateTimeField(help_text="Aware date and time (UTC when no offset is given); future.")
    target_artist = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Only this artist may offer."
    )
    target_model = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="A model version; only its owner may offer."
    )
    references = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        default=list,
        help_text="Reference images (PNG, JPEG or WEBP; multipart).",
    )


class ReferenceSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = CommissionReference
        fields = ["index", "url", "original_name", "width", "height", "sha256"]
        read_only_fields = fields

    def get_url(self, reference: CommissionReference) -> str:
        return _url(self, "commission-reference", public_id=reference.commission.public_id, index=reference.index)


class HistoryEntrySerializer(serializers.ModelSerializer):
    actor = serializers.UUIDField(source="actor.public_id", read_only=True, allow_null=True, default=None)
    at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = CommissionEvent
        fields = ["action", "from_state", "to_state", "actor", "actor_role", "note", "data", "at"]
        read_only_fields = fields


class CommissionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    client = CommissionPartySerializer(read_only=True)
    artist = CommissionPartySerializer(read_only=True, allow_null=True)
    target_artist = CommissionPartySerializer(read_only=True, allow_null=True)
    target_model = serializers.UUIDField(source="target_model.public_id", read_only=True, allow_null=True, default=None)
    accepted_offer = serializers.UUIDField(
        source="accepted_offer.public_id", read_only=True, allow_null=True, default=None
    )
    state = state_field(CommissionState, read_only=True)
    payout = serializers.IntegerField(
        source="payout_amount",
        read_only=True,
        allow_null=True,
        help_text="What the artist is paid: the price less the platform fee.",
    )
    references = serializers.SerializerMethodField()
    payment = serializers.SerializerMethodField(help_text="The client's payment (shown to the client only).")

    class Meta:
        model = Commission
        fields = [
            "id",
            "title",
            "description",
            "style",
            "budget",
            "currency",
            "deadline",
            "due_at",
            "state",
            "state_changed_at",
            "client",
            "artist",
            "target_artist",
            "target_model",
            "references",
            "accepted_offer",
            "price",
            "platform_fee",
            "payout",
            "revisions_allowed",
            "revisions_used",
            "payment",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ReferenceSerializer(many=True))
    def get_references(self, commission: Commission) -> list[dict]:
        references = sorted(commission.references.all(), key=lambda item: item.index)
        return ReferenceSerializer(references, many=True, context=self.context).data

    @extend_schema_field(CommissionPaymentSerializer(allow_null=True))
    def get_payment(self, commission: Commission) -> dict | None:
        viewer = _viewer(self)
        if commission.payment is None or viewer is None or viewer.pk != commission.client_id:
            return None
        return CommissionPaymentSerializer(commission.payment).data


class CommissionDetailSerializer(CommissionSerializer):
    history = serializers.SerializerMethodField(help_text="Every state change (see /history).")

    class Meta(CommissionSerializer.Meta):
        fields = [*CommissionSerializer.Meta.fields, "history"]
        read_only_fields = fields

    @extend_schema_field(HistoryEntrySerializer(many=True))
    def get_history(self, commission: Commission) -> list[dict]:
        """From the context (`history`: what the selector lets the viewer see)."""
        return HistoryEntrySerializer(self.context.get("history", []), many=True).data


class CommissionListQuerySerializer(serializers.Serializer):
    role = serializers.ChoiceField(
        choices=["client", "artist"],
        required=False,
        help_text="Only commissions where you are the client, or the artist.",
    )
    state = state_field(CommissionState, required=False, help_text="Only commissions in this state.")

    def validate_state(self, value: str) -> str:
        if value not in CommissionState.values:
            raise serializers.ValidationError(f"One of: {', '.join(CommissionState.values)}.")
        return value


class CancelSerializer(StrictSerializer):
    note = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default="", help_text="Why (kept in the history)."
    )


# --- offers ------------------------------------------------------------------------------------------------


class OfferCreateSerializer(StrictSerializer):
    price = serializers.IntegerField(
        min_value=1, max_value=MAX_AMOUNT, help_text="Minor units in the brief's currency; may differ from the budget."
    )
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    delivery_by = serializers.DateTimeField(help_text="When you will deliver: future, by the brief's deadline.")
    revisions = serializers.IntegerField(
        min_value=0, max_value=MAX_REVISIONS, required=False, default=DEFAULT_REVISIONS, help_text="Revisions included."
    )


class OfferSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    commission = serializers.UUIDField(source="commission.public_id", read_only=True)
    artist = CommissionPartySerializer(read_only=True)
    state = state_field(OfferState, read_only=True)
    over_budget = serializers.SerializerMethodField()

    class Meta:
        model = Offer
        fields = [
            "id",
            "commission",
            "artist",
            "price",
            "currency",
            "over_budget",
            "message",
            "delivery_by",
            "revisions",
            "state",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields

    def get_over_budget(self, offer: Offer) -> bool:
        return offer.price > offer.commission.budget


class OfferAcceptSerializer(StrictSerializer):
    payment_method = serializers.CharField(
        max_length=255, help_text="The provider's payment method (test provider: tok_visa, …)."
    )


class OfferActionSerializer(StrictSerializer):
    """Declining or withdrawing takes no input."""


# --- deliveries --------------------------------------------------------------------------------------------


class DeliveryUploadSerializer(StrictSerializer):
    images = serializers.ListField(child=serializers.FileField(allow_empty_file=True), allow_empty=False)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class DeliveryGenerateSerializer(StrictSerializer):
    model = serializers.UUIDField(help_text="One of your own model versions.")
    count = serializers.IntegerField(min_value=1, help_text="Images to draw.")
    seed = serializers.IntegerField(
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text="First seed (then seed+1, …); random when omitted.",
    )
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class DeliveryImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = DeliveryImage
        fields = ["index", "url", "width", "height", "sha256", "seed"]
        read_only_fields = fields

    def get_url(self, image: DeliveryImage) -> str:
        return _url(self, "commission-delivery-image", public_id=image.delivery.public_id, index=image.index)


class DeliverySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    commission = serializers.UUIDField(source="commission.public_id", read_only=True)
    generation_job = serializers.UUIDField(
        source="generation_job.public_id", read_only=True, allow_null=True, default=None
    )
    state = state_field(DeliveryState, read_only=True)
    images = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "commission",
            "number",
            "state",
            "note",
            "images",
            "generation_job",
            "failure_reason",
            "feedback",
            "created_at",
            "delivered_at",
            "reviewed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(DeliveryImageSerializer(many=True))
    def get_images(self, delivery: Delivery) -> list[dict]:
        images = sorted(delivery.images.all(), key=lambda item: item.index)
        return DeliveryImageSerializer(images, many=True, context=self.context).data


class DeliveryAcceptSerializer(StrictSerializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class RevisionRequestSerializer(StrictSerializer):
    note = serializers.CharField(max_length=5000, help_text="What should change.")
    deadline = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="A later due date for the revision (optional)."
    )
