"""Staff views of the gallery. Rows change only through the services: artworks' texts may be edited here;
orders, listings and grants are read-only, and refunds run through the `refund` action."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from core.admin import ActionAdmin, ReadOnlyAdmin, ReadOnlyInline
from core.errors import AtelierError, InvalidInput
from marketplace.gallery import services
from marketplace.gallery.models import Artwork, LicenceGrant, Listing, Order, OrderEvent
from marketplace.gallery.serializers import preview_path


class ListingInline(ReadOnlyInline):
    model = Listing
    fields = ["licence_type", "price", "currency", "state", "close_reason", "created_at"]
    readonly_fields = fields


class ArtworkTextForm(forms.ModelForm):
    """The service's own checks, as field errors on the change form."""

    def clean(self):
        cleaned = super().clean()
        for field in ("title", "style"):
            if field in cleaned:
                try:
                    services.artwork_text_check(**{field: cleaned[field]})
                except InvalidInput as exc:
                    self.add_error(field, exc.detail)
        return cleaned


@admin.register(Artwork)
class ArtworkAdmin(ActionAdmin):
    form = ArtworkTextForm
    list_display = [
        "thumbnail",
        "title",
        "artist",
        "state",
        "provenance_status",
        "min_price",
        "currency",
        "popularity",
        "sales_count",
        "published_at",
    ]
    list_filter = [
        "state",
        "source",
        "offers_personal",
        "offers_commercial",
        "offers_exclusive",
        "provenance_record__state",
        "style",
    ]
    search_fields = ["title", "description", "artist__email", "public_id", "content_sha256"]
    list_select_related = ["artist", "provenance_record"]
    inlines = [ListingInline]
    editable = ("title", "description", "style")  # state, owner, hashes and prices move only through services

    def get_readonly_fields(self, request, obj=None):
        return ["thumbnail", *super().get_readonly_fields(request, obj)]

    def save_model(self, request, obj, form, change) -> None:
        # through the service, so the search text, the browse card and the page cache follow the edit
        edits = {name: form.cleaned_data[name] for name in self.editable if name in form.changed_data}
        if edits:
            services.artwork_moderate(artwork=obj, **edits)

    @admin.display(description="preview")
    def thumbnail(self, artwork: Artwork) -> str:
        return format_html(
            '<img src="{}" style="max-height:64px;max-width:96px" alt="">', preview_path(artwork.public_id)
        )

    @admin.display(description="provenance", ordering="provenance_record__state")
    def provenance_status(self, artwork: Artwork) -> str:
        return artwork.provenance_record.state if artwork.provenance_record else "—"


@admin.register(Listing)
class ListingAdmin(ReadOnlyAdmin):
    list_display = ["artwork", "licence_type", "price", "currency", "state", "created_at"]
    list_filter = ["licence_type", "state", "currency"]
    search_fields = ["artwork__title", "public_id"]
    list_select_related = ["artwork"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "from_state", "to_state", "actor", "note"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ActionAdmin):
    list_display = ["public_id", "artwork", "buyer", "licence_type", "amount", "currency", "state", "created_at"]
    list_filter = ["state", "licence_type", "currency"]
    search_fields = ["public_id", "buyer__email", "artwork__title", "payment_id"]
    list_select_related = ["artwork", "buyer"]
    inlines = [OrderEventInline]
    actions = ["refund"]

    @admin.action(description="Refund the selected orders (revokes their licences)")
    def refund(self, request, queryset) -> None:
        for order in queryset:
            try:
                services.order_refund(order=order, actor=request.user, reason="refunded by support")
            except AtelierError as exc:
                self.message_user(request, f"{order.public_id}: {exc.detail}", level=messages.ERROR)
            else:
                self.message_user(request, f"{order.public_id}: refunded.", level=messages.SUCCESS)


@admin.register(LicenceGrant)
class LicenceGrantAdmin(ReadOnlyAdmin):
    list_display = ["artwork", "holder", "licence_type", "state", "created_at", "revoked_at"]
    list_filter = ["licence_type", "state"]
    search_fields = ["artwork__title", "holder__email", "public_id"]
    list_select_related = ["artwork", "holder"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False
