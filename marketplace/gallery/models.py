"""Gallery rows: artworks (with private originals and public watermarked previews), their tags, listings,
orders with an event row per state change, and the licence grants orders produce.

Browse reads only the `artworks` table (plus two joins): the lowest active price, its currency and the licence
types on offer are denormalised onto the artwork by the listing services, and `search_text` holds the
lower-cased title, description and tags for text search, `card` the pre-rendered browse card (cards.py).
Tags also live in `ArtworkTag` rows so a tag filter is an indexed lookup rather than a scan of JSON.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import BaseModel


class ArtworkState(models.TextChoices):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class ArtworkSource(models.TextChoices):
    GENERATED = "generated"
    UPLOAD = "upload"


class LicenceType(models.TextChoices):
    PERSONAL = "personal"
    COMMERCIAL = "commercial"
    EXCLUSIVE = "exclusive"


PUBLISHED = Q(state=ArtworkState.PUBLISHED)


class Artwork(BaseModel):
    artist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="artworks")
    # The current owner of the work itself: the artist until an exclusive licence is sold.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_artworks")
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True)
    tags = models.JSONField(default=list, blank=True)  # display copy of the ArtworkTag rows, in order
    style = models.CharField(max_length=40, blank=True)
    state = models.CharField(max_length=12, choices=ArtworkState.choices, default=ArtworkState.DRAFT)
    source = models.CharField(max_length=12, choices=ArtworkSource.choices)
    # lineage (generated works): the image it came from and a snapshot of what regenerates it
    generated_image = models.ForeignKey(
        "generation.GeneratedImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lineage = models.JSONField(default=dict, blank=True)
    derived_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="derivatives"
    )
    # files: the original is private (signed downloads only); the preview is public
    original = models.FileField(max_length=300)
    preview = models.FileField(max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    content_sha256 = models.CharField(max_length=64)  # of the original file exactly as stored and served
    # provenance's invisible watermark key (12 hex digits) the preview carries, and the original too when
    # original_watermarked (marked once at creation, before content_sha256 was taken); '' when none
    watermark_key = models.CharField(max_length=12, blank=True, default="")
    original_watermarked = models.BooleanField(default=False)
    pdq = models.CharField(max_length=64)
    pdq_quality = models.PositiveSmallIntegerField()
    provenance_record = models.ForeignKey(
        "provenance.ProvenanceRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # denormalised for browse (maintained by the listing and order services)
    min_price = models.PositiveBigIntegerField(null=True, blank=True)  # minor units, cheapest active listing
    currency = models.CharField(max_length=3, blank=True)
    offers_personal = models.BooleanField(default=False)
    offers_commercial = models.BooleanField(default=False)
    offers_exclusive = models.BooleanField(default=False)
    search_text = models.TextField(blank=True)
    # the API's browse card, pre-rendered by the services (cards.py); live values are spliced in on read
    card = models.TextField(blank=True, default="")
    view_count = models.PositiveBigIntegerField(default=0)
    sales_count = models.PositiveIntegerField(default=0)
    popularity = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["artist", "content_sha256"], name="gallery_artwork_unique_content"),
            models.UniqueConstraint(
                fields=["generated_image"],
                condition=Q(generated_image__isnull=False),
                name="gallery_artwork_one_per_generated_image",
            ),
        ]
        indexes = [
            # one partial index per browse sort, each ending in the id tie-breaker the keyset cursor uses
            models.Index(fields=["-published_at", "-id"], condition=PUBLISHED, name="gallery_aw_newest"),
            models.Index(fields=["-popularity", "-id"], condition=PUBLISHED, name="gallery_aw_popular"),
            models.Index(fields=["min_price", "id"], condition=PUBLISHED, name="gallery_aw_price"),
            models.Index(fields=["style", "-published_at"], condition=PUBLISHED, name="gallery_aw_style"),
            models.Index(fields=["artist", "-published_at"], condition=PUBLISHED, name="gallery_aw_artist"),
            models.Index(fields=["artist", "-created_at"], name="gallery_aw_artist_all"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.state})"


class ArtworkTag(models.Model):
    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="tag_rows")
    tag = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "artwork"], name="gallery_tag_unique")]

    def __str__(self) -> str:
        return self.tag


class ListingState(models.TextChoices):
    ACTIVE = "active"
    CLOSED = "closed"


class Listing(BaseModel):
    artwork = models.ForeignKey(Artwork, on_delete=models.PROTECT, related_name="listings")
    licence_type = models.CharField(max_length=12, choices=LicenceType.choices)
    price = models.PositiveBigIntegerField()  # minor units
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=8, choices=ListingState.choices, default=ListingState.ACTIVE)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=40, blank=True)  # closed_by_artist, exclusive_sold, …

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["artwork", "licence_type"],
                condition=Q(state=ListingState.ACTIVE),
                name="gallery_listing_one_active_per_licence",
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="gallery_listing_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.licence_type} {self.price} {self.currency} ({self.state})"


class OrderState(models.TextChoices):
    PENDING = "pending"
    PAID = "paid"
    FULFILLED = "fulfilled"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


OPEN_ORDER_STATES = (OrderState.PENDING, OrderState.PAID, OrderState.FULFILLED)
PAID_ORDER_STATES = (OrderState.PAID, OrderState.FULFILLED)


class Order(BaseModel):
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gallery_orders")
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="orders")
    artwork = models.ForeignKey(Artwork, on_delete=models.PROTECT, related_name="orders")
    licence_type = models.CharField(max_length=12, choices=LicenceType.choices)
    amount = models.PositiveBigIntegerField()  # the listing's price when ordered, minor units
    currency = models.CharField(max_length=3)
    platform_fee = models.PositiveBigIntegerField()
    artist_amount = models.PositiveBigIntegerField()  # what the artist is credited on fulfilment
    state = models.CharField(max_length=12, choices=OrderState.choices, default=OrderState.PENDING)
    payment_id = models.UUIDField(null=True, blank=True)  # the subscriptions app's Payment.public_id
    paid_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # An exclusive listing is held for this order only while its charge is in flight (seconds); see orders.py.
    hold_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # the last guards behind the listing lock: an exclusive licence is sold to one paid order,
            # and a buyer holds at most one live order per listing
            models.UniqueConstraint(
                fields=["listing"],
                name="gallery_order_one_paid_exclusive",
                condition=Q(licence_type=LicenceType.EXCLUSIVE, state__in=PAID_ORDER_STATES),
            ),
            models.UniqueConstraint(
                fields=["buyer", "listing"],
                name="gallery_order_one_live_per_buyer",
                condition=Q(state__in=OPEN_ORDER_STATES),
            ),
            models.CheckConstraint(
                condition=Q(amount=models.F("platform_fee") + models.F("artist_amount")),
                name="gallery_order_split_adds_up",
            ),
        ]
        indexes = [
            models.Index(fields=["buyer", "-created_at"], name="gallery_order_buyer"),
            models.Index(fields=["state", "created_at"], name="gallery_order_state_age"),
        ]

    def __str__(self) -> str:
        return f"order {self.public_id} ({self.state})"


class OrderEvent(models.Model):
    """One row per state change of an order: who moved it, from what, to what, when."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_state = models.CharField(max_length=12, blank=True)  # "" for creation
    to_state = models.CharField(max_length=12)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state or '∅'} → {self.to_state}"


class GrantState(models.TextChoices):
    ACTIVE = "active"
    REVOKED = "revoked"


class LicenceGrant(BaseModel):
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="grant")
    artwork = models.ForeignKey(Artwork, on_delete=models.PROTECT, related_name="grants")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="licence_grants")
    licence_type = models.CharField(max_length=12, choices=LicenceType.choices)
    state = models.CharField(max_length=8, choices=GrantState.choices, default=GrantState.ACTIVE)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["holder", "artwork", "state"], name="gallery_grant_holder")]

    def __str__(self) -> str:
        return f"{self.licence_type} licence for {self.holder_id} ({self.state})"
