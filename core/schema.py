"""OpenAPI pieces shared by the apps' views."""

import importlib
import inspect
from enum import StrEnum
from pathlib import Path

from django.apps import apps
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

# Every error response: the body core.errors renders (type, title, status, detail, code[, errors]).
PROBLEM = OpenApiResponse(OpenApiTypes.OBJECT, description="application/problem+json")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_COMPONENT = {
    "type": "object",
    "description": "An RFC 9457 problem: what went wrong, for people (title, detail) and for code (code, fields).",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "A stable machine-readable reason, e.g. `not_found`."},
        "errors": {
            "type": "object",
            "additionalProperties": True,
            "description": "Field errors of a 400, by field name.",
        },
    },
    "required": ["type", "title", "status", "code"],
    "additionalProperties": True,
}

# What any operation may answer whatever it does: the request was malformed or carried unknown fields (400), the
# credentials were wrong (401), the caller may not (403), the URL names nothing the caller can see (404), the
# Accept header asks for a format we do not speak (406), or a rate limit was hit (429).
COMMON_PROBLEMS = {
    "400": "The request is malformed: bad JSON, an unknown or invalid field or query parameter.",
    "401": "The credentials sent are not valid (expired token, revoked API key).",
    "403": "Signed in, but not allowed: the wrong role, a missing API-key scope, or a missing sign-in.",
    "404": "Nothing at this URL that you can see.",
    "406": "The Accept header asks for a format this operation does not produce.",
    "429": "Too many requests; retry after the Retry-After header's seconds.",
}
IDEMPOTENT_PROBLEMS = {
    "409": "The first request with this Idempotency-Key is still running; retry shortly.",
    "422": "This Idempotency-Key was used for a different request.",
}
BODY_PROBLEMS = {
    "413": "The request body is over this route's size limit.",
    "415": "The request body's Content-Type is not one this operation reads.",
}


def _close_request_bodies(result: dict) -> None:
    """Write bodies are strict (core.request_body, core.serializers.StrictSerializer): an unknown field is a 400.
    Say so in the schema, so clients and generators do not send what will be refused."""
    schemas = result.get("components", {}).get("schemas", {})
    pending = [
        media.get("schema", {})
        for operations in result.get("paths", {}).values()
        for operation in operations.values()
        if isinstance(operation, dict)
        for media in operation.get("requestBody", {}).get("content", {}).values()
    ]
    seen: set[str] = set()
    while pending:  # the body's own component and every component nested in it
        schema = pending.pop()
        name = schema.get("$ref", "").rsplit("/", 1)[-1]
        if not name or name in seen or name not in schemas:
            continue
        seen.add(name)
        component = schemas[name]
        if component.get("type") == "object" and "properties" in component:
            component.setdefault("additionalProperties", False)
            for prop in component["properties"].values():
                pending += [prop, prop.get("items", {}), *prop.get("allOf", []), *prop.get("oneOf", [])]


def problem_codes() -> dict[str, list[str]]:
    """Every code a problem can carry, by app label: the StrEnums of each of our apps' `errors` module
    (`core.errors.CommonError`, `marketplace/gallery/errors.py`...), found through the app registry so core
    imports no app."""
    root = Path(__file__).resolve().parents[1]
    codes: dict[str, list[str]] = {}
    for config in apps.get_app_configs():
        if not Path(config.path).is_relative_to(root) or not (Path(config.path) / "errors.py").exists():
            continue
        module = importlib.import_module(f"{config.name}.errors")
        codes[config.label] = sorted(
            member.value
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, StrEnum) and value.__module__ == module.__name__
            for member in value
        )
    return {label: values for label, values in codes.items() if values}


def _problem_component() -> dict:
    listed = "; ".join(
        f"{label}: " + ", ".join(f"`{code}`" for code in values) for label, values in problem_codes().items()
    )
    code = {**PROBLEM_COMPONENT["properties"]["code"]}
    code["description"] += f" The codes, by area: {listed}."
    return {**PROBLEM_COMPONENT, "properties": {**PROBLEM_COMPONENT["properties"], "code": code}}


def document_problems(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook: every error answer is documented as what core.errors renders —
    `application/problem+json` with the Problem schema — and every operation lists the errors any request can
    meet, so a client (and schemathesis) knows each answer it can get."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = _problem_component()
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    _close_request_bodies(result)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            expected = dict(COMMON_PROBLEMS)
            if method in ("post", "put", "patch"):
                expected |= BODY_PROBLEMS
            if any(item.get("name") == IDEMPOTENCY_KEY.name for item in operation.get("parameters", [])):
                expected |= IDEMPOTENT_PROBLEMS
            for status, description in expected.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    if response.get("description") in ("", "application/problem+json"):
                        response["description"] = expected.get(status, "See the problem's `code` and `detail`.")
                    response["content"] = problem
    return result


# Printable ASCII, 1 to 255 characters (core.services.IDEMPOTENCY_KEY_PATTERN is what the server checks).
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    pattern=r"^[\x20-\x7e]{1,255}$",
    description="Send the same key to retry safely: the request runs once, and a replay returns its first answer "
    "(for 24 hours). A key reused with a different request is a 422; one whose first request is still "
    "running, a 409.",
)


class AtelierAutoSchema(AutoSchema):
    """Operation descriptions come from the view's own docstring or the handler's, never from a base class or
    mixin: those explain code to its maintainers (\"Mix into a DRF view…\"), not the API to its users."""

    def get_description(self) -> str:
        handler = getattr(self.view, getattr(self.view, "action", None) or self.method.lower(), None)
        own = self.view.__class__.__dict__.get("__doc__")
        handler_doc = inspect.getdoc(handler) if handler is not None and handler.__doc__ else ""
        if handler_doc and handler.__qualname__.split(".")[0] != self.view.__class__.__name__:
            handler_doc = ""  # a generic handler inherited from DRF or a mixin
        return (handler_doc or inspect.cleandoc(own or "")).strip()

    def get_override_parameters(self) -> list:
        from core.idempotency import IdempotentMixin

        parameters = list(super().get_override_parameters())
        if self.method == "POST" and isinstance(self.view, IdempotentMixin):
            parameters.append(IDEMPOTENCY_KEY)
        return parameters


def summaries(**per_method: str):
    """Class decorator: a one-line, user-facing summary per HTTP method of a view (`get="Your API keys"`)."""
    return extend_schema_view(**{method: extend_schema(summary=text) for method, text in per_method.items()})
