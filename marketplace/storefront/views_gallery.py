"""The gallery (every browse filter the API has, keyset pages) and the artwork page.

Both read through the gallery's selectors exactly as the API does: browse with `browse_query_parse` and
`artworks_browse`, an artwork with `artwork_get_visible` and `listings_for_artwork` as the acting user.
"""

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET
from rest_framework.exceptions import ValidationError

from core.errors import AtelierError
from marketplace.accounts.selectors import artist_public_get
from marketplace.gallery import conf as gallery_conf
from marketplace.gallery import ports
from marketplace.gallery.browse import LICENCE_COLUMNS, SORTS, BrowseFilters
from marketplace.gallery.licence_terms import terms_for
from marketplace.gallery.selectors import artworks_browse
from marketplace.gallery.serializers import browse_query_parse
from marketplace.storefront import page_cache
from marketplace.storefront.artwork_page import artwork_page_context
from marketplace.storefront.errors import pages_errors
from marketplace.storefront.page_forms import amount_to_minor

PAGE_SIZE = 24
SORT_LABELS = {
    "newest": "Newest first",
    "popular": "Most popular",
    "price": "Price: low to high",
    "-price": "Price: high to low",
}
PROVENANCE_LABELS = {
    "pending": "Registered, waiting to be anchored",
    "batched": "In an anchoring batch",
    "anchored": "Anchored on chain",
    "confirmed": "Confirmed on chain",
}
# the page's names for what the API calls price_min/price_max (amounts as a person types them, not minor units)
PRICE_FIELDS = {"min_price": "price_min", "max_price": "price_max"}


def _api_params(params: QueryDict) -> tuple[QueryDict, dict[str, list[str]]]:
    """The page's query string in the API's terms (prices typed as amounts become minor units)."""
    query, errors = params.copy(), {}
    for name in list(query):  # a form sends every field; a blank one means "any", where the API says 400
        kept = [value for value in query.getlist(name) if value.strip()]
        if kept:
            query.setlist(name, kept)
        else:
            del query[name]
    currency = (params.get("currency") or "").upper() or "USD"
    for page_name, api_name in PRICE_FIELDS.items():
        query.pop(page_name, None)
        query.pop(api_name, None)
        typed = (params.get(page_name) or "").strip()
        if typed:
            try:
                query[api_name] = str(amount_to_minor(typed, currency))
            except DjangoValidationError as error:
                errors[page_name] = list(error.messages)
    query.pop("page_size", None)
    query["page_size"] = str(PAGE_SIZE)
    return query, errors


def _page_errors(errors: dict[str, Any]) -> dict[str, list[str]]:
    names = {api: page for page, api in PRICE_FIELDS.items()}
    return {names.get(name, name): [str(message) for message in messages] for name, messages in errors.items()}


@require_GET
@page_cache.anonymous
def gallery(request: HttpRequest) -> HttpResponse:
    query, errors = _api_params(request.GET)
    page, filters = None, BrowseFilters()
    try:  # parsed even when a price was mistyped, so every bad field is named at once
        parsed = browse_query_parse(query)
        filters = parsed.filters
        if not errors:
            page = artworks_browse(filters=filters, cursor=parsed.cursor, page_size=PAGE_SIZE)
    except ValidationError as error:
        errors |= _page_errors(error.detail)
    except AtelierError as error:
        errors |= _page_errors(error.extra.get("errors") or {"cursor": [error.detail]})
    artist = artist_public_get(public_id=filters.artist) if filters.artist else None
    context = {
        "page": page,
        "cards": page.rows if page else [],
        "errors": errors,
        "filters": filters,
        "artist": artist,
        "values": request.GET,
        "tags": request.GET.getlist("tag"),
        "licences": request.GET.getlist("licence"),
        "sorts": [(key, SORT_LABELS.get(key, key)) for key in SORTS],
        "licence_types": [(key, terms_for(key).name) for key in LICENCE_COLUMNS],
        "provenance_states": [(key, PROVENANCE_LABELS.get(key, key)) for key in ports.PROVENANCE_STATUSES],
        "currencies": gallery_conf.get("GALLERY_CURRENCIES"),
        "next_cursor": page.next.encode() if page and page.next else None,
        "previous_cursor": page.previous.encode() if page and page.previous else None,
        "filtered": any(
            request.GET.get(name)
            for name in ("q", "tag", "style", "artist", "min_price", "max_price", "currency", "licence", "provenance")
        ),
    }
    template = (
        "storefront/gallery_results.html" if request.htmx and not request.htmx.boosted else "storefront/gallery.html"
    )
    return TemplateResponse(request, template, context, status=400 if errors else 200)


@require_GET
@pages_errors
@page_cache.anonymous
def artwork_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return TemplateResponse(
        request, "storefront/artwork.html", artwork_page_context(user=request.user, public_id=public_id)
    )
