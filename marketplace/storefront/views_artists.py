"""The public artist page: the same selectors as GET /api/v1/artists/<id> and the artist-filtered browse."""

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from core.errors import InvalidInput
from marketplace.gallery.browse import BrowseFilters
from marketplace.gallery.selectors import artist_models_on_sale, artist_public_profile, artworks_browse
from marketplace.storefront import page_cache
from marketplace.storefront.errors import pages_errors

PORTFOLIO_PAGE = 24


@require_GET
@pages_errors
@page_cache.anonymous
def artist_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    artist = artist_public_profile(public_id=public_id)
    cursor = request.GET.get("cursor") or None
    try:
        page = artworks_browse(filters=BrowseFilters(artist=artist.public_id), cursor=cursor, page_size=PORTFOLIO_PAGE)
    except InvalidInput:  # a stale or edited cursor: start from the first page
        page = artworks_browse(filters=BrowseFilters(artist=artist.public_id), cursor=None, page_size=PORTFOLIO_PAGE)
    return TemplateResponse(
        request,
        "storefront/artist.html",
        {
            "artist": artist,
            "person": artist,
            "cards": page.rows,
            "models": artist_models_on_sale(artist=artist),
            "next_cursor": page.next.encode() if page.next else None,
            "previous_cursor": page.previous.encode() if page.previous else None,
        },
    )
