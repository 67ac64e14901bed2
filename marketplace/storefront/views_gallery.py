"""The gallery (browse with every filter the API has) and the artwork page."""

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET


@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "storefront/gallery.html", {})


@require_GET
def artwork_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return TemplateResponse(request, "storefront/artwork.html", {})
