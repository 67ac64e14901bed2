"""Verify a file or a hash, for a person."""

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def verify(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "storefront/verify.html", {})
