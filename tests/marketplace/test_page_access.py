"""Every page URL that names an object, walked from the URL configuration like the API's object endpoints
(test_object_access.py): a signed-in stranger gets the same answer for someone else's object as for one that
does not exist (a 404 page for GET; never a form, a 403 or a redirect that would confirm it exists), and the
database is unchanged.

A new page route with a URL parameter fails this test until PAGE_OBJECTS says which object of the shared
world (tests/marketplace/world.py, keyed by API route name) it addresses, or PUBLIC_PAGES says why a stranger
may read it.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.marketplace.test_object_access import UNKNOWN, world  # noqa: F401 (the shared world fixture)
from tests.marketplace.world import fill, snapshot

# page route name -> the world entry (an API route name) whose object it shows or acts on
PAGE_OBJECTS = {
    "artwork": "artwork-detail",  # the draft: only its artist may see it
    "studio-dataset": "dataset-detail",
    "studio-run": "training-run-detail",
    "studio-run-progress": "training-run-detail",
    "studio-model": "model-version-detail",
    "studio-model-generate": "model-version-detail",
    "studio-job": "generation-job-detail",
    "studio-job-images": "generation-job-detail",
    "studio-image-publish": "generated-image-detail",
    "studio-image-curate": "generated-image-detail",
    "studio-model-fine-tune": "model-version-detail",
    "studio-artwork": "artwork-detail",
    "studio-artwork-publish": "artwork-publish",
    "studio-artwork-withdraw": "artwork-withdraw",
    "studio-listing-create": "artwork-withdraw",  # the published work, the artist's
    "studio-listing-close": "listing-close",
    "studio-listing-price": "listing-close",
    "commission-page": "commission-detail",
    "commission-page-deliveries": "commission-detail",
    "commission-page-cancel": "commission-cancel",
    "commission-page-offer": "commission-detail",
    "commission-page-deliver-upload": "commission-detail",
    "commission-page-deliver-model": "commission-detail",
    "commission-page-offer-accept": "commission-offer-accept",
    "commission-page-offer-decline": "commission-offer-decline",
    "commission-page-offer-withdraw": "commission-offer-withdraw",
    "commission-page-delivery-accept": "commission-delivery-accept",
    "commission-page-delivery-revision": "commission-delivery-request-revision",
    "order": "order-detail",
    "order-cancel": "order-cancel",
    "payment-authenticate": "payment-detail",
    "licence": "_licence",
    "licence-download": "_licence",
}
# page route name -> (world entry, status a stranger gets on GET, why)
PUBLIC_PAGES = {
    "artwork": ("_published_artwork", 200, "published artworks are the public gallery"),
    "artist": ("user-avatar", 200, "artist profiles are public (display name, bio, works; never an email)"),
    "certificate": (
        "provenance-certificate",
        409,
        "certificates are public, as the API's (verification is public "
        "by design); a record not yet anchored answers 409 as the API does",
    ),
    "password_reset_confirm": (None, None, "a reset link's secret token is its own permission (test_accounts_pages)"),
    "signup_confirm": (None, None, "a sign-up link's secret token is its own permission (test_signup_enumeration)"),
    "checkout": (
        "listing-detail",
        None,
        "a listing of a published work is for sale to anyone signed in; the buyer pages' own tests cover the rest",
    ),
}


def page_routes() -> dict[str, str]:
    """Every page route of the storefront namespace with a URL parameter: name -> route."""
    routes: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace == "storefront" and "<" in str(pattern.pattern):
                routes[pattern.name] = "/" + prefix + str(pattern.pattern)

    walk(get_resolver().url_patterns, "", None)
    return routes


@pytest.mark.django_db
def test_a_signed_in_stranger_learns_nothing_from_any_page_url(world, client, make_user):  # noqa: F811
    routes = page_routes()
    unknown = set(routes) - set(PAGE_OBJECTS) - set(PUBLIC_PAGES)
    assert not unknown, f"page routes without an object in this test: {sorted(unknown)}"
    client.force_login(make_user(role="artist"))
    before = snapshot()
    answers, leaks = {}, {}
    for name, route in sorted(routes.items()):
        if name not in PAGE_OBJECTS:
            continue
        values = world[PAGE_OBJECTS[name]]
        nobody = {key: (UNKNOWN if key == "public_id" else value) for key, value in values.items()}
        for method in ("get", "post"):
            real = getattr(client, method)(fill(route, values), HTTP_ACCEPT="text/html")
            missing = getattr(client, method)(fill(route, nobody), HTTP_ACCEPT="text/html")
            answers[(name, method)] = real.status_code
            if (real.status_code, real.get("Location")) != (missing.status_code, missing.get("Location")):
                leaks[(name, method)] = (real.status_code, missing.status_code)
    assert not leaks, f"pages that tell another user's object from a missing one: {leaks}"
    # 405: a POST-only action (the leak check above saw the same 405 for a missing id)
    wrong = {key: status for key, status in answers.items() if key[1] == "get" and status not in (404, 405)}
    assert not wrong, f"GET of another user's object did not answer 404: {wrong}"
    assert snapshot() == before


@pytest.mark.django_db
def test_public_pages_answer_a_stranger(world, client, make_user):  # noqa: F811
    from marketplace.accounts.models import User

    me = make_user(role="buyer")
    client.force_login(me)
    others = [email.encode() for email in User.objects.exclude(pk=me.pk).values_list("email", flat=True)]
    routes = page_routes()
    for name, (key, status, why) in PUBLIC_PAGES.items():
        if key is None or status is None or name not in routes:
            continue
        response = client.get(fill(routes[name], world[key]), HTTP_ACCEPT="text/html")
        assert response.status_code == status, (name, why, response.status_code)
        assert not [email for email in others if email in response.content], (name, "a page showed an email")
