"""Pagination with a hard cap on page size: page numbers for browsing, cursors for feeds and large lists.

A `page_size` that is not a whole number from 1 to API_MAX_PAGE_SIZE is a 400, as Stripe answers an invalid
`limit`, rather than DRF's silent fall-back to the default: a client that asked for 500 rows and got 20 would
page wrongly without knowing it."""

from typing import Any

from django.conf import settings
from rest_framework.pagination import CursorPagination, PageNumberPagination

from core.errors import CommonError, InvalidInput


def _strict_page_size(request: Any, *, param: str, default: int) -> int:
    raw = request.query_params.get(param)
    if raw is None:
        return default
    limit = settings.API_MAX_PAGE_SIZE
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= limit:
        raise InvalidInput(
            f"{param} must be a whole number from 1 to {limit}.",
            field=param,
            code=CommonError.INVALID_PAGE_SIZE,
            limit=limit,
        )
    return int(raw)


def _page_size_parameter(param: str) -> dict[str, Any]:
    return {
        "name": param,
        "required": False,
        "in": "query",
        "description": f"Rows per page, 1 to {settings.API_MAX_PAGE_SIZE} (400 otherwise).",
        "schema": {"type": "integer", "minimum": 1, "maximum": settings.API_MAX_PAGE_SIZE},
    }


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:  # read at request time so tests can override the setting
        return settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request: Any) -> int:
        return _strict_page_size(request, param=self.page_size_query_param, default=self.page_size)

    def get_page_number(self, request: Any, paginator: Any) -> str | int:
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not (raw.isascii() and raw.isdigit() and int(raw) >= 1):  # past the last page stays DRF's 404
            raise InvalidInput(
                f"{self.page_query_param} must be a whole number from 1.",
                field=self.page_query_param,
                code=CommonError.INVALID_PAGE,
            )
        return raw

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for item in parameters:
            if item["name"] == self.page_query_param:
                item["schema"] = {"type": "integer", "minimum": 1}
        return [
            _page_size_parameter(self.page_size_query_param) if item["name"] == self.page_size_query_param else item
            for item in parameters
        ]


class NewestFirstCursorPagination(CursorPagination):
    """Stable under concurrent inserts; needs an indexed, unique-enough ordering (created_at, then id)."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request: Any) -> int:
        return _strict_page_size(request, param=self.page_size_query_param, default=self.page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            _page_size_parameter(self.page_size_query_param) if item["name"] == self.page_size_query_param else item
            for item in super().get_schema_operation_parameters(view)
        ]
