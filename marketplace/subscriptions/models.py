"""Plans, subscriptions and their events, the usage ledger, payments, processed provider webhooks, and the
artist payout ledger. Money is integer minor units plus an ISO 4217 currency; times are aware UTC."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from core.models import BaseModel

FREE_PLAN_CODE = "free"
# The fallback plan must always exist; if the seeded row is ever missing it is recreated with these values.
FREE_PLAN_DEFAULTS = {
    "name": "Free",
    "price": 0,
    "currency": "USD",
    "period": "month",
    "rank": 0,
    "generations_per_period": 50,
    "training_runs_per_period": 1,
    "max_resolution": 256,
    "max_dataset_images": 500,
    "max_dataset_bytes": 200 * 1024**2,
    "allows_commercial_licences": False,
    "max_training_minutes": 30,
    "max_training_work": 500_000_000_000,
    "publications_per_period": 100,
}
currency_code = RegexValidator(r"^[A-Z]{3}$", "An ISO 4217 code in capitals, e.g. USD.")


class Period(models.TextChoices):
    MONTH = "month"
    YEAR = "year"


class Plan(BaseModel):
    """What a subscriber gets per billing period. `rank` orders plans: a higher rank is an upgrade.
    A null quota or limit means "no cap"."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    price = models.PositiveIntegerField(help_text="Per period, in minor units (cents).")
    currency = models.CharField(max_length=3, default="USD", validators=[currency_code])
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.MONTH)
    rank = models.PositiveSmallIntegerField(default=0)
    trial_days = models.PositiveSmallIntegerField(default=0, help_text="Free trial for a first paid subscription.")
    is_public = models.BooleanField(default=True, help_text="Listed and open to self-service subscription.")
    generations_per_period = models.PositiveIntegerField(null=True, blank=True)
    training_runs_per_period = models.PositiveIntegerField(null=True, blank=True)
    max_resolution = models.PositiveIntegerField(null=True, blank=True, help_text="Pixels per side.")
    max_dataset_images = models.PositiveIntegerField(null=True, blank=True)
    max_dataset_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    max_training_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Wall-clock training minutes per run; the worker stops a run there."
    )
    publications_per_period = models.PositiveIntegerField(
        null=True, blank=True, help_text="First publishes of artworks per period (each is anchored on chain)."
    )
    max_training_work = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Per run: steps x batch x resolution^2 x channels of the wider network."
    )
    allows_commercial_licences = models.BooleanField(default=False)

    class Meta:
        ordering = ["rank", "price"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_free(self) -> bool:
        return self.price == 0


class SubscriptionState(models.TextChoices):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"


class Subscription(BaseModel):
    """A user's plan over time. At most one live (not cancelled) row per user; cancelled rows are history.

    `pending_payment` is a charge in flight for this subscription (an upgrade or a renewal): while it is set,
    other plan changes wait (409), and the payment's settlement applies the change."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=SubscriptionState.choices, default=SubscriptionState.ACTIVE)
    billing_anchor = models.DateTimeField(help_text="Periods end at whole months/years after this instant.")
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField(db_index=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    pending_plan = models.ForeignKey(
        Plan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A downgrade that takes effect at the end of the period.",
    )
    payment_method = models.CharField(max_length=255, blank=True)
    provider_customer = models.CharField(max_length=255, blank=True)
    failed_payment_attempts = models.PositiveSmallIntegerField(default=0)
    next_payment_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    pending_payment = models.ForeignKey("Payment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=~Q(state="cancelled"), name="one_live_subscription_per_user"
            ),
            models.CheckConstraint(
                condition=Q(current_period_end__gt=F("current_period_start")), name="subscription_period_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.plan.code} ({self.state})"


class SubscriptionEvent(models.Model):
    """Who did what to a subscription, and when: written in the transaction that made the change."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when the system acted (renewal, retries).",
    )
    type = models.CharField(max_length=40)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.type} @ {self.created_at:%Y-%m-%d %H:%M}"


class UsageKind(models.TextChoices):
    GENERATION = "generation"  # values match generation.metering.GENERATION / TRAINING
    TRAINING = "training"
    PUBLICATION = "publication"  # a first publish of an artwork: a provenance record the signer anchors


class UsageEntryType(models.TextChoices):
    CONSUME = "consume"
    REFUND = "refund"


class UsageEntry(BaseModel):
    """One line of the usage ledger. Remaining quota = plan limit − sum(units) over the subscription's
    current period; never a counter. A refund (negative units) belongs to the period of what it refunds."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_entries")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="usage_entries")
    kind = models.CharField(max_length=16, choices=UsageKind.choices)
    type = models.CharField(max_length=8, choices=UsageEntryType.choices, default=UsageEntryType.CONSUME)
    units = models.IntegerField()
    reference = models.CharField(max_length=200)
    period_start = models.DateTimeField()

    class Meta:
        verbose_name_plural = "usage entries"
        indexes = [models.Index(fields=["subscription", "kind", "period_start"], name="usage_period_idx")]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "reference", "type"], name="usage_once_per_reference"),
            models.CheckConstraint(
                condition=(Q(type="consume", units__gt=0) | Q(type="refund", units__lt=0)),
                name="usage_units_sign_matches_type",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.units:+d} ({self.reference})"


class PaymentState(models.TextChoices):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


OPEN_PAYMENT_STATES = (PaymentState.PENDING, PaymentState.REQUIRES_ACTION)
PAID_PAYMENT_STATES = (PaymentState.SUCCEEDED, PaymentState.PARTIALLY_REFUNDED, PaymentState.REFUNDED)


class PaymentPurpose(models.TextChoices):
    SUBSCRIPTION = "subscription"
    ORDER = "order"
    COMMISSION = "commission"
    OTHER = "other"


class Payment(BaseModel):
    """One attempt to take money from a payer, through the provider named in `provider`."""

    payer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=20, choices=PaymentState.choices, default=PaymentState.PENDING)
    provider = models.CharField(max_length=16)
    provider_reference = models.CharField(max_length=255, blank=True, db_index=True)
    client_secret = models.CharField(
        max_length=255, blank=True, help_text="For the payer's browser to complete an action (3-D Secure)."
    )
    action_url = models.URLField(
        max_length=2000, blank=True, help_text="The provider's page where the payer completes an action, if any."
    )
    purpose = models.CharField(max_length=16, choices=PaymentPurpose.choices)
    reference = models.CharField(max_length=200, db_index=True, help_text="e.g. order:<uuid>, subscription:<uuid>")
    description = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    amount_refunded = models.PositiveBigIntegerField(default=0)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(amount_refunded__lte=F("amount")), name="payment_refund_le_amount"),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payment_provider_reference_unique",
            ),
            # One live charge per (payer, reference) outside subscriptions: an order is never paid twice.
            models.UniqueConstraint(
                fields=["payer", "reference"],
                condition=~Q(purpose="subscription") & ~Q(state__in=["failed", "cancelled"]),
                name="payment_one_live_per_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} {self.reference} ({self.state})"

    @property
    def refundable_amount(self) -> int:
        return self.amount - self.amount_refunded if self.state in PAID_PAYMENT_STATES else 0


class RefundState(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PaymentRefund(BaseModel):
    """A refund of some or all of a payment. Pending refunds reserve their amount until settled."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveBigIntegerField()
    state = models.CharField(max_length=16, choices=RefundState.choices, default=RefundState.PENDING)
    provider_reference = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"refund {self.amount} of {self.payment_id} ({self.state})"


class PaymentEvent(models.Model):
    """Who did what to a payment, and when (charge attempts, settlements, refunds)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    type = models.CharField(max_length=40)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.type} @ {self.created_at:%Y-%m-%d %H:%M}"


class ProcessedWebhookEvent(models.Model):
    """A provider event handled once: the unique (provider, event_id) makes a replay a no-op."""

    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once")]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"


class LedgerEntry(BaseModel):
    """The payout ledger: append-only credits (sales, commissions) and debits (clawbacks, payouts) per user.
    The balance is the sum of the rows; each reference is booked once per user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries")
    amount = models.BigIntegerField(help_text="Minor units: positive credits, negative debits.")
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=200)
    memo = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(fields=["user", "reference"], name="ledger_once_per_reference"),
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.currency} {self.reference}"


class PayoutState(models.TextChoices):
    PENDING = "pending"  # the balance has left the ledger; the money is on its way (staff or the provider)
    PAID = "paid"
    FAILED = "failed"  # the transfer did not happen: the amount is credited back to the ledger


class Payout(BaseModel):
    """A payout of a user's ledger balance. Requesting one debits the whole available balance in that currency
    (ledger reference `payout:<id>`) under a lock on the user, so it never goes below zero and is never paid out
    twice; staff mark it paid (or failed, which credits it back) unless the provider settles it at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts")
    amount = models.PositiveBigIntegerField(help_text="Minor units.")
    currency = models.CharField(max_length=3, validators=[currency_code])
    state = models.CharField(max_length=8, choices=PayoutState.choices, default=PayoutState.PENDING)
    provider = models.CharField(max_length=16)
    provider_reference = models.CharField(max_length=255, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff member who marked it; empty: the provider.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.UniqueConstraint(
                fields=["user", "currency"], condition=Q(state="pending"), name="payout_one_pending_per_currency"
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="payout_user_newest")]

    def __str__(self) -> str:
        return f"payout {self.amount} {self.currency} ({self.state})"
