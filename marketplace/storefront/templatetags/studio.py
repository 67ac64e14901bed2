"""Filters and tags of the studio and commission pages: durations, byte sizes, state names as words, and the
studio navigation's current section (by URL name: the site's `current` goes by path prefix)."""

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as a person reads them: "45 s", "3 min 20 s", "2 h 5 min"."""
    if seconds is None:
        return "—"
    seconds = max(int(round(float(seconds))), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


@register.filter
def filesize(size: int | None) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """mapping[key] (or None), for dicts keyed by something a template cannot spell."""
    try:
        return mapping.get(str(key)) if hasattr(mapping, "get") else mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


@register.simple_tag(takes_context=True)
def here(context: dict[str, Any], names: str) -> SafeString:
    """A section link's class, and ` aria-current="page"` when the page's URL name is one of `names`."""
    match = getattr(context.get("request"), "resolver_match", None)
    if match is not None and match.url_name in names.split():
        return mark_safe(' class="btn btn-small btn-primary" aria-current="page"')
    return mark_safe(' class="btn btn-small"')


GOOD = {"succeeded", "ready", "published", "active", "completed", "delivered", "accepted", "awarded", "paid"}
BAD = {"failed", "cancelled", "declined", "expired", "withdrawn", "closed", "refunded"}


@register.filter
def tone(state: str) -> str:
    """The badge class for a state: finished well, finished badly, or under way."""
    return "badge-ok" if state in GOOD else "badge-bad" if state in BAD else "badge-warn"


@register.filter
def words(value: str) -> str:
    """A state or action name as words: "revision_requested" -> "Revision requested"."""
    text = str(value or "").replace("_", " ")
    return text[:1].upper() + text[1:]
