"""Error responses that fit who asked: a browser asking for a page gets a styled HTML page; API clients (every
/api/ path, and any client that doesn't ask for HTML) keep problem+json from core.errors."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.template.response import TemplateResponse

from core import errors as problem

PAGES = {
    400: ("Bad request", "The request could not be understood. Check the address or the form and try again."),
    403: (
        "Not allowed",
        "You don't have access to this page. If you think you should, sign in with the account that does.",
    ),
    404: (
        "Page not found",
        "There is nothing at this address. The work may have been withdrawn, or the link is mistyped.",
    ),
    500: (
        "Something went wrong",
        "An unexpected error occurred on our side. It has been logged; please try again in a moment.",
    ),
}


def wants_html(request: HttpRequest) -> bool:
    if request.path.startswith("/api/"):
        return False
    accept = request.headers.get("Accept", "")
    return "text/html" in accept or "application/xhtml+xml" in accept


def _page(request: HttpRequest, status: int, **extra) -> HttpResponse:
    title, detail = PAGES[status]
    context = {"status": status, "title": title, "detail": detail, **extra}
    return TemplateResponse(request, "storefront/errors/error.html", context, status=status).render()


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 400) if wants_html(request) else problem.handler400(request, exception)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 403) if wants_html(request) else problem.handler403(request, exception)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404) if wants_html(request) else problem.handler404(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if not wants_html(request):
        return problem.handler500(request)
    # no context processors (no database, no session): this page must render when those are what failed
    title, detail = PAGES[500]
    html = loader.get_template("storefront/errors/error.html").render(
        {"status": 500, "title": title, "detail": detail, "request": request}
    )
    return HttpResponse(html, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form posted without a valid token (an old tab, blocked cookies, another site)."""
    if not wants_html(request):
        return problem.problem_json_response(
            status=403,
            code=problem.CommonError.CSRF_FAILED,
            title="CSRF check failed",
            detail="The request lacked a valid CSRF token.",
        )
    return _page(
        request,
        403,
        title="This form has expired",
        detail="For your safety the form could not be sent: it was open too long, cookies are "
        "blocked, or it came from another site. Go back, reload the page and try again.",
        csrf=True,
    )


def pages_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For page views that call services/selectors: their NotFound is the 404 page, Forbidden the 403 page and
    NotAuthenticated a redirect to sign in, as the API answers 404/403/401 for the same calls."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except problem.NotFound:
            return _page(request, 404)
        except problem.Forbidden:
            return _page(request, 403)
        except problem.NotAuthenticated:
            return redirect_to_login(request.get_full_path())

    return wrapped
