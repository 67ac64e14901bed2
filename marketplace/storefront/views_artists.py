"""The public artist page."""

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET


@require_GET
def artist_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return TemplateResponse(request, "storefront/artist.html", {})
