"""Per-route request body caps, enforced from `Content-Length` before anything reads the body.

Django reads a multipart body only when a view touches it, and spools files past FILE_UPLOAD_MAX_MEMORY_SIZE to
a temporary file — but it will spool gigabytes, and it does so before any role or size check in the view. Here
each route has a ceiling: `REQUEST_BODY_MAX_BYTES` by default (JSON and forms), and for the upload routes
their own upload cap (`UPLOAD_ROUTE_LIMITS`: url name → a function giving the app's cap at call time)
plus multipart overhead. A body over the cap is a 413 before authentication, parsing or disk. A request
without `Content-Length` (chunked) is read by Django as empty, so it cannot slip past. The reverse proxy should
refuse larger bodies still earlier (README: nginx `client_max_body_size`).
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from core.errors import CommonError, problem_json_response

MULTIPART_OVERHEAD = 256 * 1024  # boundaries, headers and text fields around the files


def route_limit(url_name: str | None) -> int:
    """The body cap of a route, in bytes."""
    path = settings.UPLOAD_ROUTE_LIMITS.get(url_name or "")
    if path is None:
        return settings.REQUEST_BODY_MAX_BYTES
    return int(import_string(path)()) + MULTIPART_OVERHEAD


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, args: Any, kwargs: Any) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_json_response(
                status=400,
                code=CommonError.MALFORMED_REQUEST,
                title="Malformed request",
                detail="Content-Length is not a number.",
            )
        if length <= 0:
            return None
        limit = route_limit(getattr(request.resolver_match, "url_name", None))
        if length > limit:
            return problem_json_response(
                status=413,
                code=CommonError.PAYLOAD_TOO_LARGE,
                title="Payload too large",
                detail=f"The request body is {length} bytes; this endpoint's limit is {limit} bytes.",
                max_bytes=limit,
            )
        return None
