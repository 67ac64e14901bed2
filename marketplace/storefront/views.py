"""The home page: featured (most popular) and newest artworks, top artists, and how Atelier works for buyers
and for artists. Public, through the same browse selector as the API; cached for anonymous visitors."""

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from marketplace.gallery.browse import BrowseFilters
from marketplace.gallery.selectors import artists_public, artworks_browse
from marketplace.storefront import page_cache

FEATURED = 4
NEWEST = 12
TOP_ARTISTS = 6


@require_GET
@page_cache.anonymous
def home(request: HttpRequest) -> HttpResponse:
    featured = artworks_browse(filters=BrowseFilters(sort="popular"), cursor=None, page_size=FEATURED).rows
    newest = artworks_browse(filters=BrowseFilters(), cursor=None, page_size=NEWEST).rows
    artists = list(artists_public().only("public_id", "display_name", "avatar", "bio")[:TOP_ARTISTS])
    return TemplateResponse(
        request, "storefront/home.html", {"featured": featured, "artworks": newest, "artists": artists}
    )
