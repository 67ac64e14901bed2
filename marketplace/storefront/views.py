"""The home page: what Atelier is, where its parts live, and the newest published artworks."""

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from marketplace.gallery.browse import BrowseFilters
from marketplace.gallery.selectors import artworks_browse

NEWEST = 12


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    page = artworks_browse(filters=BrowseFilters(), cursor=None, page_size=NEWEST)
    return TemplateResponse(request, "storefront/home.html", {"artworks": page.rows})
