"""The anonymous page cache: a public page rendered for a visitor without a session is kept like the API's
browse pages (marketplace.gallery.browse_cache: GALLERY_BROWSE_CACHE_SECONDS, retired by every write that
changes what browse shows), under the full path and whether htmx asked for a fragment.

Only visitors with no session and no pending messages are served from it: their page has no CSRF token, no
name in the header and no messages, so it is the same for all of them."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from marketplace.gallery import browse_cache


def _cacheable(request: HttpRequest) -> bool:
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def anonymous(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        fragment = "htmx" if request.headers.get("HX-Request") == "true" else "page"
        key = browse_cache.page_key(url=f"storefront:{fragment}:{request.get_full_path()}")
        if key is None:
            return view(request, *args, **kwargs)
        cached = browse_cache.page_get(key)
        if cached is not None:
            response = HttpResponse(cached, content_type="text/html; charset=utf-8")
        else:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            if response.status_code == 200 and not response.cookies:
                browse_cache.page_set(key, response.content)
        patch_vary_headers(response, ("Cookie", "HX-Request"))
        return response

    return wrapped
