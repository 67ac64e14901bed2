"""Tags and filters of the site's frame: the header's current section, money, short hashes, the
querystring of a page that keeps its filters."""

from typing import Any

from django import template
from django.http import QueryDict
from django.utils.safestring import SafeString

from marketplace.accounts.serializers import avatar_path
from marketplace.storefront.page_forms import minor_to_amount

register = template.Library()


@register.simple_tag(takes_context=True)
def current(context: dict[str, Any], prefix: str) -> SafeString:
    """` aria-current="page"` on the nav link whose section the request is in ("/" only for the home page)."""
    request = context.get("request")
    path = request.path if request is not None else ""
    here = path == "/" if prefix == "/" else path.startswith(prefix)
    return SafeString(' aria-current="page"') if here else SafeString("")


@register.filter
def price(minor: int | None, currency: str) -> str:
    """1250, "usd" -> "12.50 USD"; no price -> "—"."""
    if minor is None:
        return "—"
    return f"{minor_to_amount(minor, currency.upper())} {currency.upper()}"


@register.filter
def short_hash(value: str | None, keep: int = 10) -> str:
    """'0x1234…abcd'-style abbreviation of a long hex string for display (the full value goes in title=)."""
    if not value:
        return "—"
    text = str(value)
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-keep:]}"


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (None or "" removes one), for pagers and sorts."""
    request = context.get("request")
    query = request.GET.copy() if request is not None else QueryDict(mutable=True)
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = str(value)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def avatar_url(user: Any) -> str | None:
    return avatar_path(user)


@register.filter
def when(value: Any) -> Any:
    """An ISO 8601 string (as the API's serializers give) as a datetime, for the `date` filter."""
    if not isinstance(value, str):
        return value
    from django.utils.dateparse import parse_datetime

    return parse_datetime(value) or value
