"""Gallery HTTP shapes. Inputs are strict (unknown or read-only keys such as owner, artist, state, price paid or
royalty are a 400 naming them); outputs list their fields.

The browse card is rendered by hand from the plain rows the browse selector returns (a page of 100 cards is
built in well under a millisecond); its declared fields document the same shape for the OpenAPI schema.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils.urls import replace_query_param

from core.serializers import StrictSerializer
from marketplace.gallery import cards, ports
from marketplace.gallery.browse import Card
from marketplace.gallery.keyset import Page
from marketplace.gallery.licence_terms import terms_for
from marketplace.gallery.models import Artwork, LicenceGrant, LicenceType, Listing, Order
from marketplace.gallery.selectors import DEFAULT_SORT, LICENCE_COLUMNS, SORTS, BrowseFilters


@extend_schema_field({"type": "string", "description": "The object's state (see the endpoint's description)."})
class StateField(serializers.CharField):
    """States as plain strings: several models here have a `state` with different values, which
    drf-spectacular would otherwise have to name apart in settings."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)


DEFAULT_PAGE_SIZE = 20
MAX_FILTER_PRICE = 10**12  # minor units; far above any listing, well inside a 64-bit column
LICENCE_TYPES_HELP = "Licence types on offer: personal, commercial, exclusive."


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def preview_path(public_id: Any) -> str:
    return f"/api/v1/artworks/{public_id}/preview"


def _absolute(serializer: serializers.Serializer, path: str) -> str:
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


# --- inputs ------------------------------------------------------------------------------------------------


class ArtworkCreateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=20, required=False, default=list
    )
    style = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    file = serializers.FileField(
        required=False, help_text="An uploaded image (PNG, JPEG or WEBP); or give generated_image."
    )
    generated_image = serializers.UUIDField(required=False, help_text="One of your generated images.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("file" in attrs) == ("generated_image" in attrs):
            raise serializers.ValidationError({"file": ["Give exactly one of file or generated_image."]})
        return attrs


class ArtworkUpdateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), max_length=20, required=False)
    style = serializers.CharField(max_length=40, required=False, allow_blank=True)


class BrowseQuerySerializer(serializers.Serializer):
    """Query parameters of the public browse; unknown parameters are ignored, bad values are a 400."""

    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        default="",
        help_text="Words to find in the title, description or tags (all of them).",
    )
    tag = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        default=list,
        max_length=5,
        help_text="Repeat to require several tags.",
    )
    style = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    artist = serializers.UUIDField(required=False)
    price_min = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_FILTER_PRICE, help_text="Minor units."
    )
    price_max = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_FILTER_PRICE, help_text="Minor units."
    )
    currency = serializers.CharField(required=False, allow_blank=True, max_length=3, default="")
    licence = serializers.ListField(
        child=serializers.ChoiceField(choices=list(LICENCE_COLUMNS)),
        required=False,
        default=list,
        max_length=3,
        help_text="Offered licence types, any of: personal, commercial, exclusive.",
    )
    provenance = serializers.ChoiceField(choices=list(ports.PROVENANCE_STATUSES), required=False)
    sort = serializers.ChoiceField(
        choices=list(SORTS),
        required=False,
        default=DEFAULT_SORT,
        help_text="newest (default), popular, price (lowest first) or -price.",
    )
    cursor = serializers.CharField(required=False, max_length=500)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=settings.API_MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )

    def validate_page_size(self, value: int) -> int:
        if value > settings.API_MAX_PAGE_SIZE:
            raise serializers.ValidationError(f"At most {settings.API_MAX_PAGE_SIZE}.")
        return value

    def validate_licence(self, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(LICENCE_COLUMNS))
        if unknown:
            raise serializers.ValidationError(f"Unknown licence type(s): {', '.join(unknown)}.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("price_min"), attrs.get("price_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"price_min": ["price_min is above price_max."]})
        return attrs


@dataclass(frozen=True)
class BrowseQuery:
    filters: BrowseFilters
    cursor: str | None
    page_size: int


def _one(params: Any, name: str, errors: dict[str, list[str]], *, max_length: int) -> str:
    value = params.get(name, "")
    if len(value) > max_length:
        errors[name] = [f"At most {max_length} characters."]
    return value.strip()


def _whole(params: Any, name: str, errors: dict[str, list[str]], *, low: int, high: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)  # a blank value is as wrong as any other non-number (the pages drop blank fields)
    except ValueError:
        errors[name] = ["A whole number is required."]
        return None
    if value < low or (high is not None and value > high):
        errors[name] = [f"Between {low} and {high}." if high is not None else f"At least {low}."]
    return value


DEFAULT_BROWSE_QUERY = BrowseQuery(filters=BrowseFilters(), cursor=None, page_size=DEFAULT_PAGE_SIZE)


def browse_query_parse(params: Any) -> BrowseQuery:
    """The browse parameters (documented by BrowseQuerySerializer), parsed by hand: DRF's serializer machinery
    cost more than the whole database query on this, the hottest endpoint. Every bad value is a 400 naming it."""
    if not params:  # the front page: nothing to parse
        return DEFAULT_BROWSE_QUERY
    errors: dict[str, list[str]] = {}
    for name, values in params.lists():
        if any("\x00" in value for value in values):
            raise serializers.ValidationError({name: ["Null characters are not allowed."]})
    tags = list(dict.fromkeys(tag.strip().lower() for tag in params.getlist("tag") if tag.strip()))
    if len(tags) > 5 or any(len(tag) > 40 for tag in tags):
        errors["tag"] = ["At most 5 tags of at most 40 characters."]
    licences = params.getlist("licence")
    if set(licences) - set(LICENCE_COLUMNS) or len(licences) > 3:
        errors["licence"] = [f"Licence types are {', '.join(LICENCE_COLUMNS)}."]
    provenance = params.get("provenance")
    if provenance is not None and provenance not in ports.PROVENANCE_STATUSES:
        errors["provenance"] = [f"One of {', '.join(ports.PROVENANCE_STATUSES)}."]
    sort = params.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        errors["sort"] = [f"One of {', '.join(SORTS)}."]
    artist = None
    if "artist" in params:
        try:
            artist = UUID(params["artist"])
        except ValueError:
            errors["artist"] = ["Must be a valid UUID."]
    price_min = _whole(params, "price_min", errors, low=0, high=MAX_FILTER_PRICE)
    price_max = _whole(params, "price_max", errors, low=0, high=MAX_FILTER_PRICE)
    if price_min is not None and price_max is not None and price_min > price_max and "price_min" not in errors:
        errors["price_min"] = ["price_min is above price_max."]
    page_size = _whole(params, "page_size", errors, low=1, high=settings.API_MAX_PAGE_SIZE)
    q = _one(params, "q", errors, max_length=200)
    style = _one(params, "style", errors, max_length=40).lower()
    currency = _one(params, "currency", errors, max_length=3).upper()
    cursor = _one(params, "cursor", errors, max_length=500) or None
    if "cursor" in params and cursor is None:
        errors["cursor"] = ["A cursor from a previous page's next or previous link."]
    if errors:
        raise serializers.ValidationError(errors)
    filters = BrowseFilters(
        q=q,
        tags=tuple(tags),
        style=style,
        artist=artist,
        price_min=price_min,
        price_max=price_max,
        currency=currency,
        licences=tuple(licences),
        provenance=provenance or "",
        sort=sort,
    )
    return BrowseQuery(filters=filters, cursor=cursor, page_size=page_size or DEFAULT_PAGE_SIZE)


class ListingCreateSerializer(StrictSerializer):
    licence_type = serializers.ChoiceField(choices=LicenceType.choices)
    price = serializers.IntegerField(help_text="Minor units (cents).")
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", max_length=3, help_text="ISO 4217, e.g. USD.")


class ListingUpdateSerializer(StrictSerializer):
    price = serializers.IntegerField(help_text="Minor units (cents).")


class OrderCreateSerializer(StrictSerializer):
    listing = serializers.UUIDField()
    payment_method = serializers.CharField(
        max_length=255, required=False, allow_blank=False, help_text="Pay now with this method; or pay later with /pay."
    )


class OrderPaySerializer(StrictSerializer):
    payment_method = serializers.CharField(max_length=255)


class OrderRefundSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# --- outputs -----------------------------------------------------------------------------------------------


class ArtistSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    display_name = serializers.CharField()


class PriceSerializer(serializers.Serializer):
    amount = serializers.IntegerField(help_text="Minor units.")
    currency = serializers.CharField()


class ArtworkCardSerializer(serializers.Serializer):
    """One browse result; instances are `browse.Card` rows from `selectors.artworks_browse`."""

    id = serializers.UUIDField()
    title = serializers.CharField()
    artist = ArtistSerializer()
    style = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    preview_url = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    price = PriceSerializer(allow_null=True, help_text="The lowest active listing; null when not for sale.")
    licence_types = serializers.ListField(child=serializers.CharField(), help_text=LICENCE_TYPES_HELP)
    popularity = serializers.IntegerField()
    provenance_status = serializers.CharField(allow_null=True)
    published_at = serializers.DateTimeField()

    def to_representation(self, card: Card) -> dict[str, Any]:
        return card_json(card, base_url=self.context.get("base_url", ""))


def card_json(card: Card, *, base_url: str) -> dict[str, Any]:
    """The browse card (ArtworkCardSerializer's shape), built directly: a page renders in microseconds."""
    price = card.min_price
    return {
        "id": card.public_id,
        "title": card.title,
        "artist": {"id": card.artist_id, "display_name": card.artist_name},
        "style": card.style,
        "tags": card.tags,
        "preview_url": f"{base_url}/api/v1/artworks/{card.public_id}/preview",
        "width": card.width,
        "height": card.height,
        "price": None if price is None else {"amount": price, "currency": card.currency},
        "licence_types": card.licence_types,
        "popularity": card.popularity,
        "provenance_status": card.provenance_status,
        "published_at": card.published_at,
    }


def _page_link(url: str, token: str) -> str:
    if "?" not in url:  # what replace_query_param gives when there is no query (a cursor needs no quoting)
        return f"{url}?cursor={token}"
    return replace_query_param(url, "cursor", token)


def browse_cards_page_json(page: Page, *, url: str, base_url: str) -> bytes:
    """A browse page as JSON from its pre-rendered cards (a page of browse.CardRow), by string joins: byte for
    byte what DRF's JSONRenderer writes for BrowsePageSerializer's shape (compact, UTF-8, U+2028/U+2029
    escaped; tests/marketplace/gallery/test_browse.py holds the two equal on hostile text, and the cards equal
    to `card_json` of the same rows read column by column)."""
    base = cards.json_text(base_url)[1:-1]  # it goes inside the preview URL's string
    results = ",".join(
        cards.card_from(
            row.card, artist=row.artist, base=base, popularity=row.popularity, provenance_status=row.provenance_status
        )
        for row in page.rows
    )
    next_link = _page_link(url, page.next.encode()) if page.next else None
    previous_link = _page_link(url, page.previous.encode()) if page.previous else None
    return (
        f'{{"next":{cards.json_text(next_link)},"previous":{cards.json_text(previous_link)},"results":[{results}]}}'
    ).encode()


class BrowsePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ArtworkCardSerializer(many=True)


class LicenceTermsSerializer(serializers.Serializer):
    name = serializers.CharField()
    summary = serializers.CharField()
    permits = serializers.ListField(child=serializers.CharField())
    forbids = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField())
    version = serializers.CharField(help_text="The wording's version (licence documents name it).")


class ListingSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    artwork = serializers.UUIDField(source="artwork.public_id", read_only=True)
    state = StateField(help_text="active or closed")
    terms = serializers.SerializerMethodField(help_text="What the licence allows, in plain words.")

    class Meta:
        model = Listing
        fields = [
            "id",
            "artwork",
            "licence_type",
            "price",
            "currency",
            "state",
            "close_reason",
            "terms",
            "created_at",
            "closed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(LicenceTermsSerializer)
    def get_terms(self, listing: Listing) -> dict[str, Any]:
        return terms_for(listing.licence_type).as_dict()


class ProvenanceSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="pending, batched, anchored or confirmed")
    record_id = serializers.UUIDField()
    content_sha256 = serializers.CharField()
    owner = serializers.CharField(help_text="Opaque owner reference (accounts.user:<id>).")
    transaction_hash = serializers.CharField(allow_null=True)
    block_number = serializers.IntegerField(allow_null=True)


class ArtworkDetailSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    artist = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    state = StateField(help_text="draft, published or withdrawn")
    preview_url = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField()
    licence_types = serializers.SerializerMethodField()
    derived_from = serializers.UUIDField(source="derived_from.public_id", read_only=True, allow_null=True)
    provenance = serializers.SerializerMethodField()
    listings = serializers.SerializerMethodField()

    class Meta:
        model = Artwork
        fields = [
            "id",
            "title",
            "description",
            "tags",
            "style",
            "state",
            "source",
            "artist",
            "owner",
            "preview_url",
            "width",
            "height",
            "content_sha256",
            "lineage",
            "derived_from",
            "price",
            "licence_types",
            "listings",
            "provenance",
            "popularity",
            "view_count",
            "sales_count",
            "published_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ArtistSerializer)
    def get_artist(self, artwork: Artwork) -> dict[str, Any]:
        return {"id": str(artwork.artist.public_id), "display_name": artwork.artist.display_name}

    @extend_schema_field(ArtistSerializer)
    def get_owner(self, artwork: Artwork) -> dict[str, Any]:
        return {"id": str(artwork.owner.public_id), "display_name": artwork.owner.display_name}

    def get_preview_url(self, artwork: Artwork) -> str:
        return _absolute(self, preview_path(artwork.public_id))

    @extend_schema_field(PriceSerializer(allow_null=True))
    def get_price(self, artwork: Artwork) -> dict[str, Any] | None:
        return None if artwork.min_price is None else {"amount": artwork.min_price, "currency": artwork.currency}

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), help_text=LICENCE_TYPES_HELP))
    def get_licence_types(self, artwork: Artwork) -> list[str]:
        return [licence for licence, column in LICENCE_COLUMNS.items() if getattr(artwork, column)]

    @extend_schema_field(ProvenanceSerializer(allow_null=True))
    def get_provenance(self, artwork: Artwork) -> dict[str, Any] | None:
        return ports.provenance_of(record=artwork.provenance_record)

    @extend_schema_field(ListingSerializer(many=True))
    def get_listings(self, artwork: Artwork) -> list[dict[str, Any]]:
        return ListingSerializer(self.context.get("listings", []), many=True).data


class ArtworkSummarySerializer(serializers.ModelSerializer):
    """An artist's own works (any state)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    state = StateField(help_text="draft, published or withdrawn")
    preview_url = serializers.SerializerMethodField()
    provenance_status = serializers.CharField(source="provenance_record.state", read_only=True, allow_null=True)

    class Meta:
        model = Artwork
        fields = [
            "id",
            "title",
            "state",
            "source",
            "tags",
            "style",
            "preview_url",
            "min_price",
            "currency",
            "provenance_status",
            "popularity",
            "sales_count",
            "published_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_preview_url(self, artwork: Artwork) -> str:
        return _absolute(self, preview_path(artwork.public_id))


class PaymentSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.CharField()
    client_secret = serializers.CharField(help_text="For the payer's browser to complete an action (3-D Secure).")


class OrderSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    listing = serializers.UUIDField(source="listing.public_id", read_only=True)
    artwork = serializers.UUIDField(source="artwork.public_id", read_only=True)
    artwork_title = serializers.CharField(source="artwork.title", read_only=True)
    state = StateField(help_text="pending, paid, fulfilled, refunded or cancelled")
    licence = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "listing",
            "artwork",
            "artwork_title",
            "licence_type",
            "amount",
            "currency",
            "state",
            "payment_id",
            "licence",
            "created_at",
            "paid_at",
            "fulfilled_at",
            "refunded_at",
            "cancelled_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.UUID)
    def get_licence(self, order: Order) -> str | None:
        grant = getattr(order, "grant", None) if order.state in ("fulfilled", "refunded") else None
        return str(grant.public_id) if grant is not None else None


class OrderPaymentSerializer(OrderSerializer):
    payment = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "payment"]
        read_only_fields = fields

    @extend_schema_field(PaymentSummarySerializer(allow_null=True))
    def get_payment(self, order: Order) -> dict[str, Any] | None:
        payment = self.context.get("payment")
        if payment is None:
            return None
        return {"id": str(payment.id), "state": payment.state, "client_secret": payment.client_secret}


class SaleSerializer(OrderSerializer):
    buyer = serializers.CharField(source="buyer.display_name", read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "buyer", "platform_fee", "artist_amount"]
        read_only_fields = fields


class LicenceGrantSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    artwork = serializers.UUIDField(source="artwork.public_id", read_only=True)
    artwork_title = serializers.CharField(source="artwork.title", read_only=True)
    order = serializers.UUIDField(source="order.public_id", read_only=True)
    state = StateField(help_text="active or revoked")

    class Meta:
        model = LicenceGrant
        fields = ["id", "artwork", "artwork_title", "order", "licence_type", "state", "created_at", "revoked_at"]
        read_only_fields = fields


class DownloadUrlSerializer(serializers.Serializer):
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()


class ArtistModelSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    resolution = serializers.IntegerField()
    works = serializers.IntegerField(help_text="Published works made with this model.")


class ArtistSummarySerializer(serializers.Serializer):
    """A public artist (never an email): what the list and the profile share."""

    id = serializers.UUIDField(source="public_id")
    display_name = serializers.CharField()
    avatar = serializers.SerializerMethodField()
    open_to_commissions = serializers.BooleanField()
    published_count = serializers.IntegerField()
    sales_total = serializers.IntegerField(help_text="Licences sold across the artist's published works.")
    profile_url = serializers.SerializerMethodField()

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_avatar(self, artist: Any) -> str | None:
        from marketplace.accounts.serializers import avatar_path

        path = avatar_path(artist)
        request = self.context.get("request")
        return request.build_absolute_uri(path) if path and request is not None else path

    def get_profile_url(self, artist: Any) -> str:
        return _absolute(self, f"/artists/{artist.public_id}")


class ArtistProfileSerializer(ArtistSummarySerializer):
    bio = serializers.CharField()
    joined_at = serializers.DateTimeField(source="created_at")
    models = serializers.SerializerMethodField()
    artworks_url = serializers.SerializerMethodField(help_text="Their published works (the browse endpoint).")

    @extend_schema_field(ArtistModelSerializer(many=True))
    def get_models(self, artist: Any) -> list[dict[str, Any]]:
        return self.context.get("models", [])

    def get_artworks_url(self, artist: Any) -> str:
        return _absolute(self, f"/api/v1/artworks?artist={artist.public_id}")
