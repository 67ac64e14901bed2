"""Event filters: an endpoint hears the event types matching any of its patterns.

A pattern is `*` (everything), `area.*` (every event of an area, e.g. `order.*`), or an exact type
(`order.paid`). Matching is on whole dot-separated segments: `order.*` matches `order.paid` and
`order.refund.created`, never `orders.paid`.
"""

import re
from collections.abc import Iterable

MAX_PATTERNS = 50
_SEGMENT = r"[a-z0-9_]+"
_PATTERN = re.compile(rf"^(\*|{_SEGMENT}(\.{_SEGMENT})*\.\*|{_SEGMENT}(\.{_SEGMENT})+)$")


def pattern_is_valid(pattern: str) -> bool:
    return bool(_PATTERN.match(pattern))


def normalise_patterns(patterns: Iterable[str]) -> list[str]:
    """Deduplicated, in the order given; raises ValueError naming the first invalid pattern."""
    out: list[str] = []
    for pattern in patterns:
        if not pattern_is_valid(pattern):
            raise ValueError(f"{pattern!r} is not an event type or pattern (use 'order.paid', 'order.*' or '*').")
        if pattern not in out:
            out.append(pattern)
    if not out:
        raise ValueError("List at least one event type or pattern ('*' for every event).")
    if len(out) > MAX_PATTERNS:
        raise ValueError(f"At most {MAX_PATTERNS} event patterns.")
    return out


def event_type_matches(patterns: Iterable[str], event_type: str) -> bool:
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False
