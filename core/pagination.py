"""Pagination with a hard cap on page size: page numbers for browsing, cursors for feeds and large lists."""

from django.conf import settings
from rest_framework.pagination import CursorPagination, PageNumberPagination


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:  # read at request time so tests can override the setting
        return settings.API_MAX_PAGE_SIZE


class NewestFirstCursorPagination(CursorPagination):
    """Stable under concurrent inserts; needs an indexed, unique-enough ordering (created_at, then id)."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.API_MAX_PAGE_SIZE
