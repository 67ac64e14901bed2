"""The gallery, artwork and artist pages (and the artist API) run the same number of queries however many
works, listings, artists and ownership events there are (no N+1), measured with the page cache off."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.gallery import services as gallery
from marketplace.subscriptions.services import subscription_change_plan

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def test_public_pages_run_a_constant_number_of_queries(client, settings, make_user, publish):
    settings.GALLERY_BROWSE_CACHE_SECONDS = 0
    first = make_user(role="artist", display_name="First")
    subscription_change_plan(user=first, plan="pro", payment_method="tok_visa")  # commercial licences
    focus = publish(first, 100, tags=("sea",))
    counts: dict[str, list[int]] = {}
    for round_ in range(3):
        artist = make_user(role="artist", display_name=f"Artist {round_}")
        for index in range(3):  # more works, artists and listings each round
            publish(artist, 10 * round_ + index + 1, tags=("sea", f"t{index}"))
            publish(first, 200 + 10 * round_ + index, tags=("sea",))
        if round_ == 1:
            gallery.listing_create(artist=first, artwork=focus, licence_type="commercial", price=9000, currency="USD")
        if round_ == 2:
            gallery.listing_create(artist=first, artwork=focus, licence_type="exclusive", price=90000, currency="USD")
        client.logout()
        for name, url in {
            "home": "/",
            "gallery": "/gallery?tag=sea",
            "artwork": f"/artworks/{focus.public_id}",
            "artist": f"/artists/{first.public_id}",
            "artist-api": "/api/v1/artists",
            "artist-detail-api": f"/api/v1/artists/{first.public_id}",
        }.items():
            counts.setdefault(name, []).append(queries(client, url))
        client.force_login(make_user(role="buyer"))
        counts.setdefault("artwork-signed-in", []).append(queries(client, f"/artworks/{focus.public_id}"))
        counts.setdefault("gallery-signed-in", []).append(queries(client, "/gallery"))
    # the first view of an artwork by a viewer also records the view (one insert): fewer later is not growth
    growing = {name: values for name, values in counts.items() if any(b > a for a, b in zip(values, values[1:]))}
    assert not growing, f"queries that grow with the rows: {growing}"
