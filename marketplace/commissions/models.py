"""Commissions: a client's brief, artists' offers, the artist's deliveries (with their images), and the history
of every state change. Money is integer minor units plus an ISO 4217 currency; times are aware UTC.

The state machine lives in `transitions.py`; these rows only hold state.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import BaseModel


class CommissionState(models.TextChoices):
    OPEN = "open"  # taking offers
    PAYMENT_PENDING = "payment_pending"  # an offer was accepted; the charge waits for the payer (3-D Secure)
    AWARDED = "awarded"  # paid (funds held by the platform); the artist works
    DELIVERED = "delivered"  # the latest delivery awaits the client's review
    REVISION_REQUESTED = "revision_requested"
    COMPLETED = "completed"  # accepted: the artist is paid
    CANCELLED = "cancelled"
    EXPIRED = "expired"


FINAL_STATES = (CommissionState.COMPLETED, CommissionState.CANCELLED, CommissionState.EXPIRED)


class Commission(BaseModel):
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="commissions_as_client")
    # The artist whose offer was accepted (set from payment_pending on; cleared if that payment fails).
    artist = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="commissions_as_artist"
    )
    # A brief for one artist only (also set, to the model's owner, for a brief that names a model).
    target_artist = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_model = models.ForeignKey(
        "generation.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=120, blank=True)
    description = models.TextField(max_length=10_000)
    style = models.CharField(max_length=500, blank=True)
    budget = models.PositiveBigIntegerField(help_text="Minor units (cents).")
    currency = models.CharField(max_length=3)
    deadline = models.DateTimeField(help_text="The brief's deadline, as posted.")
    due_at = models.DateTimeField(
        db_index=True, help_text="When the next delivery is due: the deadline, later if a revision request extended it."
    )
    state = models.CharField(
        max_length=20, choices=CommissionState.choices, default=CommissionState.OPEN, db_index=True
    )
    state_changed_at = models.DateTimeField(db_index=True)
    accepted_offer = models.OneToOneField("Offer", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    price = models.PositiveBigIntegerField(null=True, blank=True, help_text="What the client pays (minor units).")
    platform_fee = models.PositiveBigIntegerField(null=True, blank=True)
    revisions_allowed = models.PositiveSmallIntegerField(default=0)
    revisions_used = models.PositiveSmallIntegerField(default=0)
    payment = models.ForeignKey(
        "subscriptions.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "due_at"], name="commission_state_due")]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gt=0), name="commission_budget_positive"),
            models.CheckConstraint(
                condition=Q(revisions_used__lte=models.F("revisions_allowed")),
                name="commission_revisions_within_allowance",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title or self.description[:40]} ({self.state})"

    @property
    def payout_amount(self) -> int | None:
        return None if self.price is None else self.price - (self.platform_fee or 0)


class CommissionReference(models.Model):
    """A reference image of the brief, re-encoded by `core.uploads.image_clean`, stored privately."""

    commission = models.ForeignKey(Commission, on_delete=models.CASCADE, related_name="references")
    index = models.PositiveSmallIntegerField()
    file = models.FileField(max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        ordering = ["commission_id", "index"]
        constraints = [models.UniqueConstraint(fields=["commission", "index"], name="commission_reference_index")]

    def __str__(self) -> str:
        return f"reference {self.index} of {self.commission_id}"


class OfferState(models.TextChoices):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Offer(BaseModel):
    commission = models.ForeignKey(Commission, on_delete=models.CASCADE, related_name="offers")
    artist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="commission_offers")
    price = models.PositiveBigIntegerField(help_text="Minor units, in the brief's currency.")
    currency = models.CharField(max_length=3)
    message = models.TextField(max_length=5000, blank=True)
    delivery_by = models.DateTimeField()
    revisions = models.PositiveSmallIntegerField(default=2)
    state = models.CharField(max_length=16, choices=OfferState.choices, default=OfferState.PENDING, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="offer_price_positive"),
            models.UniqueConstraint(
                fields=["commission", "artist"], condition=Q(state="pending"), name="offer_one_pending_per_artist"
            ),
            models.UniqueConstraint(
                fields=["commission"], condition=Q(state="accepted"), name="offer_one_accepted_per_commission"
            ),
        ]

    def __str__(self) -> str:
        return f"offer {self.price} {self.currency} on {self.commission_id} ({self.state})"


class DeliveryState(models.TextChoices):
    GENERATING = "generating"  # waiting for its generation job
    FAILED = "failed"  # the generation job failed, or the commission moved on while it ran
    DELIVERED = "delivered"  # awaiting review
    ACCEPTED = "accepted"
    REVISION_REQUESTED = "revision_requested"


class Delivery(BaseModel):
    commission = models.ForeignKey(Commission, on_delete=models.CASCADE, related_name="deliveries")
    artist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField(help_text="1 for the first delivery, then one more per attempt.")
    state = models.CharField(max_length=20, choices=DeliveryState.choices, db_index=True)
    note = models.TextField(max_length=5000, blank=True)
    generation_job = models.ForeignKey(
        "generation.GenerationJob", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    failure_reason = models.CharField(max_length=500, blank=True)
    feedback = models.TextField(max_length=5000, blank=True, help_text="The client's revision request.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["commission_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["commission", "number"], name="delivery_number_unique"),
            models.UniqueConstraint(
                fields=["commission"], condition=Q(state="generating"), name="delivery_one_generating_per_commission"
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.number} of {self.commission_id} ({self.state})"


class DeliveryImage(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField()
    file = models.FileField(max_length=300)
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    original_name = models.CharField(max_length=255, blank=True)
    # Lineage of a generated image (what regenerates it lives on the generation row).
    generated_image = models.ForeignKey(
        "generation.GeneratedImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    seed = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["delivery_id", "index"]
        constraints = [models.UniqueConstraint(fields=["delivery", "index"], name="delivery_image_index")]

    def __str__(self) -> str:
        return f"image {self.index} of delivery {self.delivery_id}"


class CommissionEvent(models.Model):
    """The commission's history: who moved it from which state to which, when, and why. Written in the
    transaction that made the change."""

    commission = models.ForeignKey(Commission, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when the platform acted (expiry, payment).",
    )
    actor_role = models.CharField(max_length=8)  # client, artist, system
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    note = models.TextField(max_length=5000, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state or '-'} → {self.to_state}"
