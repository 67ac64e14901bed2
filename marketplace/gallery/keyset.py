"""Keyset (cursor) pages over one sort key plus the primary key as tie-breaker.

A page is "the next n + 1 rows after (last key, last id)": one indexed range scan whatever the depth, no COUNT,
and stable while rows are inserted. Walking backwards fetches in the mirrored order and reverses. Cursors are
opaque (base64 JSON of sort, key, id, direction); one made for another sort, or malformed, is a 400.
"""

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
from django.utils.dateparse import parse_datetime

from core.errors import InvalidInput
from marketplace.gallery.errors import GalleryError


class Key(Protocol):
    column: str
    nullable: bool

    def reversed(self) -> "Key": ...


@dataclass(frozen=True)
class Cursor:
    sort: str
    value: Any
    row_id: int
    backward: bool = False

    def encode(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        # orjson writes this dict of str/int/None exactly as json.dumps(..., separators=(",", ":")) did
        raw = orjson.dumps({"s": self.sort, "v": value, "i": self.row_id, "b": int(self.backward)})
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _in_range(value: Any) -> bool:
    return type(value) is int and -(2**62) < value < 2**62  # what a 64-bit column can compare with


def cursor_decode(token: str, *, sort: str, key: Key) -> Cursor:
    invalid = InvalidInput(
        "The cursor is invalid; start again from the first page.", field="cursor", code=GalleryError.INVALID_CURSOR
    )
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(data, dict) or data.get("s") != sort or not _in_range(data.get("i")):
        raise invalid
    value = data.get("v")
    if value is None:
        if not key.nullable:
            raise invalid
    elif isinstance(value, str):
        value = parse_datetime(value)
        if value is None or value.tzinfo is None:
            raise invalid
    elif not _in_range(value):
        raise invalid
    return Cursor(sort=sort, value=value, row_id=data["i"], backward=bool(data.get("b")))


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next: Cursor | None
    previous: Cursor | None


Fetch = Callable[[Any, tuple[Any, int] | None, int], list[Any]]


def keyset_page(fetch: Fetch, *, sort: str, key: Key, cursor: Cursor | None, size: int) -> Page:
    """One page: `fetch(order, after, limit)` returns rows (with `.id` and `.sort_value(column)`) in `order`."""
    backward = cursor is not None and cursor.backward
    order = key.reversed() if backward else key
    after = (cursor.value, cursor.row_id) if cursor is not None else None
    fetched = fetch(order, after, size + 1)
    more, rows = len(fetched) > size, fetched[:size]
    if backward:
        rows.reverse()
    if not rows:
        return Page(rows=[], next=None, previous=None)

    def at(row: Any, *, back: bool) -> Cursor:
        return Cursor(sort=sort, value=row.sort_value(key.column), row_id=row.id, backward=back)

    if backward:
        return Page(rows=rows, next=at(rows[-1], back=False), previous=at(rows[0], back=True) if more else None)
    return Page(
        rows=rows,
        next=at(rows[-1], back=False) if more else None,
        previous=at(rows[0], back=True) if cursor is not None else None,
    )
