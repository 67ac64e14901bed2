"""Strict request bodies, for every view: malformed JSON is a 400 even where the view never reads its body,
and an action that takes no body (publish, cancel, rotate…) refuses one instead of ignoring it.

DRF parses a body only when a view reads `request.data`, so without this a bodyless action would run on
`{"title": ` and do its work. The check runs before the view (and before authentication): the answer is the
same for every caller and every object, so it reveals nothing.
"""

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from core.errors import CommonError, problem_json_response

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def no_body[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """Mark a view method as taking no request body: any field sent to it is a 400."""
    handler.takes_no_body = True  # type: ignore[attr-defined]
    return handler


def _is_json(request: HttpRequest) -> bool:
    content_type = request.content_type or ""
    return content_type == "application/json" or content_type.endswith("+json")


class StrictRequestBodyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, args: Any, kwargs: Any) -> HttpResponse | None:
        if request.method not in WRITE_METHODS:
            return None
        view_class = getattr(view_func, "view_class", None)
        handler = getattr(view_class, request.method.lower(), None) if view_class else None
        takes_no_body = getattr(handler, "takes_no_body", False)
        if not _is_json(request) and not takes_no_body:
            return None
        body = request.body  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE guard applies here
        payload: Any = None
        if _is_json(request) and body.strip():
            try:
                payload = json.loads(body)
            except (ValueError, UnicodeDecodeError) as exc:
                return problem_json_response(
                    status=400,
                    code=CommonError.MALFORMED_REQUEST,
                    title="Malformed request",
                    detail=f"The request body is not valid JSON ({exc}).",
                )
        if not takes_no_body:
            return None
        if _is_json(request):
            fields = sorted(payload) if isinstance(payload, dict) else [] if payload is None else ["non_field_errors"]
        elif request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            fields = sorted({*request.POST, *request.FILES})
        else:
            fields = ["non_field_errors"] if body.strip() else []
        if not fields:
            return None
        message = "This endpoint takes no request body."
        return problem_json_response(
            status=400,
            code=CommonError.INVALID,
            title="Invalid input",
            detail=f"{message} Unexpected: {', '.join(fields)}.",
            errors={field: [message] for field in fields},
        )
