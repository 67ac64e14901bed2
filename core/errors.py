"""One error tree with stable codes, and the one DRF handler that renders every error as problem+json.

Services raise `AtelierError` subclasses; the handler also translates DRF's and Django's own exceptions, so
a client sees the same shape (RFC 9457: type, title, status, detail, code, plus `errors` for fields) for a
validation failure, a 404, a throttle or an unhandled exception.
"""

import logging
from collections.abc import Mapping
from enum import StrEnum, unique
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

logger = logging.getLogger("atelier.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://atelier.dev/problems/"


@unique
class CommonError(StrEnum):
    """The codes core raises and renders: each error class's default, DRF's and Django's own errors, and the
    shared refusals (request bodies, pages, idempotency keys, uploads). Each app's own codes are a StrEnum in its
    `errors.py` (`GalleryError`, `GenerationError`, ...), so a code is a member, never a bare string."""

    BAD_REQUEST = "bad_request"
    INVALID = "invalid"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PAYMENT_REQUIRED = "payment_required"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    CONFLICT = "conflict"
    INVALID_TRANSITION = "invalid_transition"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    UNPROCESSABLE = "unprocessable"
    LOCKED = "locked"
    QUOTA_EXCEEDED = "quota_exceeded"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    MALFORMED_REQUEST = "malformed_request"
    CSRF_FAILED = "csrf_failed"
    INVALID_PAGE = "invalid_page"
    INVALID_PAGE_SIZE = "invalid_page_size"
    IDEMPOTENCY_KEY_IN_FLIGHT = "idempotency_key_in_flight"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENT_SECRET_NOT_REPLAYABLE = "idempotent_secret_not_replayable"
    INVALID_IMAGE = "invalid_image"
    INVALID_ZIP = "invalid_zip"
    EMPTY_ZIP = "empty_zip"
    UNSAFE_ZIP = "unsafe_zip"
    ZIP_BOMB = "zip_bomb"


class AtelierError(Exception):
    status = 400
    code = CommonError.BAD_REQUEST
    title = "Bad request"

    def __init__(self, detail: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        if code:
            self.code = code
        self.extra = extra
        super().__init__(self.detail)


class InvalidInput(AtelierError):
    status, code, title = 400, CommonError.INVALID, "Invalid input"

    def __init__(self, detail: str | None = None, *, field: str | None = None, **extra: Any) -> None:
        if field:
            extra.setdefault("errors", {field: [detail or self.title]})
        super().__init__(detail, **extra)


class NotAuthenticated(AtelierError):
    status, code, title = 401, CommonError.NOT_AUTHENTICATED, "Authentication required"


class PaymentRequired(AtelierError):
    status, code, title = 402, CommonError.PAYMENT_REQUIRED, "Payment required"


class Forbidden(AtelierError):
    status, code, title = 403, CommonError.FORBIDDEN, "Forbidden"


class NotFound(AtelierError):
    status, code, title = 404, CommonError.NOT_FOUND, "Not found"


class Conflict(AtelierError):
    status, code, title = 409, CommonError.CONFLICT, "Conflict"


class InvalidTransition(Conflict):
    code, title = CommonError.INVALID_TRANSITION, "Invalid state transition"

    def __init__(self, *, entity: str, state: str, action: str, **extra: Any) -> None:
        super().__init__(f"Cannot {action} a {entity} that is {state}.", state=state, action=action, **extra)


class PayloadTooLarge(AtelierError):
    status, code, title = 413, CommonError.PAYLOAD_TOO_LARGE, "Payload too large"


class Unprocessable(AtelierError):
    status, code, title = 422, CommonError.UNPROCESSABLE, "Unprocessable request"


class Locked(AtelierError):
    status, code, title = 423, CommonError.LOCKED, "Locked"


class QuotaExceeded(AtelierError):
    status, code, title = 429, CommonError.QUOTA_EXCEEDED, "Quota exceeded"


class ServiceUnavailable(AtelierError):
    status, code, title = 503, CommonError.SERVICE_UNAVAILABLE, "Service unavailable"


def problem_body(*, status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    body = {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status, "detail": detail, "code": str(code)}
    body.update(extra)
    return body


def problem_response(
    *, status: int, code: str, title: str, detail: str, headers: Mapping | None = None, **extra: Any
) -> Response:
    body = problem_body(status=status, code=code, title=title, detail=detail, **extra)
    return Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _flatten_field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF nests errors by field (and list index); clients get a flat `{"a.b": [...]}` map."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten_field_errors(value, name))
    elif isinstance(detail, list) and detail and all(isinstance(item, str) for item in detail):
        out[prefix or "non_field_errors"] = [str(item) for item in detail]
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:
                out.update(_flatten_field_errors(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


_DRF_CODES = {
    drf.ParseError: (CommonError.MALFORMED_REQUEST, "Malformed request"),
    drf.AuthenticationFailed: (CommonError.AUTHENTICATION_FAILED, "Authentication failed"),
    drf.NotAuthenticated: (CommonError.NOT_AUTHENTICATED, "Authentication required"),
    drf.PermissionDenied: (CommonError.FORBIDDEN, "Forbidden"),
    drf.NotFound: (CommonError.NOT_FOUND, "Not found"),
    drf.MethodNotAllowed: (CommonError.METHOD_NOT_ALLOWED, "Method not allowed"),
    drf.NotAcceptable: (CommonError.NOT_ACCEPTABLE, "Not acceptable"),
    drf.UnsupportedMediaType: (CommonError.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
    drf.Throttled: (CommonError.THROTTLED, "Too many requests"),
}


def _from_drf(exc: drf.APIException) -> tuple[int, str, str, str, dict[str, Any]]:
    if isinstance(exc, drf.ValidationError):
        errors = _flatten_field_errors(exc.detail)
        fields = ", ".join(sorted(errors))
        return 400, CommonError.INVALID, "Invalid input", f"Invalid input: {fields}.", {"errors": errors}
    code, title = next(
        (value for cls, value in _DRF_CODES.items() if isinstance(exc, cls)),
        (str(exc.default_code), "Error"),
    )
    extra: dict[str, Any] = {}
    if isinstance(exc, drf.Throttled) and exc.wait is not None:
        extra["retry_after_seconds"] = int(exc.wait)
    return exc.status_code, code, title, str(exc.detail), extra


def problem_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """The DRF EXCEPTION_HANDLER: every exception raised in an API view ends here."""
    headers: dict[str, str] = {}
    if isinstance(exc, AtelierError):
        status, code, title, detail, extra = exc.status, exc.code, exc.title, exc.detail, dict(exc.extra)
        if "retry_after_seconds" in extra:
            headers["Retry-After"] = str(int(extra["retry_after_seconds"]))
    elif isinstance(exc, (RequestDataTooBig, TooManyFilesSent, TooManyFieldsSent)):
        status, code, title, detail, extra = 413, CommonError.PAYLOAD_TOO_LARGE, "Payload too large", str(exc), {}
    elif isinstance(exc, SuspiciousOperation):
        status, code, title, detail, extra = 400, CommonError.BAD_REQUEST, "Bad request", "The request was refused.", {}
    elif isinstance(exc, Http404):
        status, code, title, detail, extra = 404, CommonError.NOT_FOUND, "Not found", "Not found.", {}
    elif isinstance(exc, DjangoPermissionDenied):
        status, code, title, detail, extra = 403, CommonError.FORBIDDEN, "Forbidden", "Forbidden.", {}
    elif isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        status, code, title, detail = 400, CommonError.INVALID, "Invalid input", "Invalid input."
        extra = {"errors": errors}
    elif isinstance(exc, drf.APIException):
        status, code, title, detail, extra = _from_drf(exc)
        auth_header = _authenticate_header(context)
        if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
            status = 401
            if auth_header:
                headers["WWW-Authenticate"] = auth_header
        if isinstance(exc, drf.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait))
    else:
        view = context.get("view")
        logger.exception("Unhandled error in %s", type(view).__name__ if view else "view", exc_info=exc)
        status, code, title = 500, CommonError.SERVER_ERROR, "Internal server error"
        detail, extra = "An unexpected error occurred. It has been logged.", {}
    return problem_response(status=status, code=code, title=title, detail=detail, headers=headers, **extra)


def _authenticate_header(context: Mapping[str, Any]) -> str | None:
    view, request = context.get("view"), context.get("request")
    if view is None or request is None:
        return None
    return view.get_authenticate_header(request)


def problem_json_response(*, status: int, code: str, title: str, detail: str, **extra: Any) -> JsonResponse:
    """A problem+json response outside DRF (handlers, middleware)."""
    body = problem_body(status=status, code=code, title=title, detail=detail, **extra)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def _django_problem(status: int, code: str, title: str, detail: str) -> JsonResponse:
    return problem_json_response(status=status, code=code, title=title, detail=detail)


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _django_problem(404, CommonError.NOT_FOUND, "Not found", f"No resource at {request.path}.")


def handler500(request: HttpRequest) -> JsonResponse:
    return _django_problem(
        500, CommonError.SERVER_ERROR, "Internal server error", "An unexpected error occurred. It has been logged."
    )


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _django_problem(400, CommonError.BAD_REQUEST, "Bad request", "The request could not be understood.")


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _django_problem(403, CommonError.FORBIDDEN, "Forbidden", "Forbidden.")
