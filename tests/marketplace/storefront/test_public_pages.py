"""The public pages read as the API does: the gallery with every browse filter and keyset pages, the artwork
page (licences with their terms, provenance, more by the artist), the artist page and API, the home page."""

import re
from html import unescape

import pytest

from marketplace.gallery.licence_terms import TERMS

pytestmark = pytest.mark.django_db
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def card_ids(html: str) -> list[str]:
    return re.findall(rf'<h3 class="card-title"><a href="/artworks/({UUID})"', html)


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.content[-1500:])
    return response.content.decode()


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    settings.GALLERY_BROWSE_CACHE_SECONDS = 0


def test_home_shows_published_works_with_prices_top_artists_and_how_it_works(client, artist, publish):
    artist.display_name = "Mira Okafor"
    artist.save()
    shown = publish(artist, 1, title="Harbour at Dusk", price=2500)
    hidden = publish(artist, 2, title="Secret Draft", publish=False)
    html = page(client, "/")
    assert "Harbour at Dusk" in html and f'href="/artworks/{shown.public_id}"' in html
    assert "from 25.00 USD" in html
    assert "Secret Draft" not in html and str(hidden.public_id) not in html
    assert f'href="/artists/{artist.public_id}"' in html and "Mira Okafor" in html
    assert "For buyers" in html and "For artists" in html
    assert 'href="/admin/"' not in html and 'href="/dashboard/"' not in html  # staff links for staff only


def test_home_page_links_staff_to_the_dashboard_and_admin_only(client, make_user):
    client.force_login(make_user(role="buyer"))
    assert 'href="/admin/"' not in page(client, "/")
    client.force_login(make_user(role="staff"))
    html = page(client, "/")
    assert 'href="/admin/"' in html and 'href="/dashboard/"' in html


def test_gallery_filters_combine_like_the_api(client, artist, make_user, publish, settings):
    other = make_user(role="artist")
    cheap = publish(artist, 1, title="Blue Harbour", price=500, tags=("sea", "night"), style="pixel")
    dear = publish(artist, 2, title="Red Harbour", price=9000, tags=("sea",), style="oil")
    by_other = publish(other, 3, title="Green Field", price=1500, tags=("land",), style="pixel")
    unpriced = publish(other, 4, title="Quiet", price=None)
    every = set(card_ids(page(client, "/gallery")))
    assert every == {str(a.public_id) for a in (cheap, dear, by_other, unpriced)}
    cases = {
        "/gallery?q=harbour": {cheap, dear},
        "/gallery?tag=sea": {cheap, dear},
        "/gallery?tag=sea&tag=night": {cheap},
        "/gallery?style=pixel": {cheap, by_other},
        f"/gallery?artist={other.public_id}": {by_other, unpriced},
        "/gallery?min_price=10&max_price=100": {by_other, dear},
        "/gallery?max_price=5": {cheap},
        "/gallery?licence=personal": {cheap, dear, by_other},
        "/gallery?licence=exclusive": set(),
        "/gallery?provenance=pending": {cheap, dear, by_other, unpriced},
        "/gallery?provenance=confirmed": set(),
        "/gallery?currency=EUR": set(),
        "/gallery?q=harbour&style=oil": {dear},
    }
    for url, expected in cases.items():
        assert set(card_ids(page(client, url))) == {str(a.public_id) for a in expected}, url
    prices = card_ids(page(client, "/gallery?sort=price"))
    assert prices[:3] == [str(cheap.public_id), str(by_other.public_id), str(dear.public_id)]
    assert card_ids(page(client, "/gallery?sort=-price"))[0] == str(dear.public_id)


def test_gallery_pages_with_keyset_cursors_and_keeps_the_filters(client, artist, publish, monkeypatch):
    from marketplace.storefront import views_gallery

    monkeypatch.setattr(views_gallery, "PAGE_SIZE", 2)
    works = [publish(artist, seed, tags=("sea",)) for seed in range(1, 6)]
    seen, url, pages = [], "/gallery?tag=sea", 0
    while url:
        html = page(client, url)
        seen += card_ids(html)
        pages += 1
        found = re.search(r'<a class="btn" rel="next" href="([^"]+)"', html)
        url = "/gallery" + unescape(found.group(1)) if found else None
        if url:
            assert "tag=sea" in url and "cursor=" in url
    assert pages == 3 and sorted(seen) == sorted(str(w.public_id) for w in works) and len(set(seen)) == 5
    back = re.search(r'rel="prev" href="([^"]+)"', html)
    assert back and card_ids(page(client, "/gallery" + unescape(back.group(1)))) == seen[2:4]


def test_bad_gallery_filters_rerender_with_field_errors_and_keep_what_was_typed(client, artist, publish):
    publish(artist, 1)
    html = page(client, "/gallery?q=keep+me&min_price=abc&sort=sideways&licence=stolen", status=400)
    assert 'value="keep me"' in html and 'value="abc"' in html
    assert "Enter an amount such as 12.50." in html
    assert "sort:" in html and "licence:" in html
    assert not card_ids(html)
    html = page(client, "/gallery?min_price=50&max_price=10", status=400)
    assert "min_price" in html.replace("min_price=", "") or "above" in html
    assert page(client, "/gallery?cursor=not-a-cursor", status=400).count("cursor") >= 1


def test_gallery_answers_htmx_with_the_results_fragment(client, artist, publish):
    publish(artist, 1, title="Fragmented")
    response = client.get("/gallery?q=fragmented", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "Fragmented" in html
    assert "<html" not in html and "<form" not in html  # the #results section only


def test_artwork_page_shows_terms_in_plain_words_price_buy_link_and_provenance(client, artist, publish):
    artwork = publish(
        artist, 1, title="Lighthouse", price=1250, tags=("sea",), style="pixel", description="A lighthouse at night."
    )
    listing = artwork.listings.get()
    html = page(client, f"/artworks/{artwork.public_id}")
    terms = TERMS["personal"]
    assert "Lighthouse" in html and "A lighthouse at night." in html
    assert terms.name in html and unescape(html).count(terms.summary) == 1
    for line in (*terms.permits, *terms.forbids):
        assert line in unescape(html)
    assert "12.50 USD" in html
    assert f'href="/checkout/{listing.public_id}"' in html
    assert 'href="/gallery?tag=sea"' in html and 'href="/gallery?style=pixel"' in html
    record = artwork.provenance_record
    assert record.content_sha256 in html and "Registered" in html
    assert "/certificate" not in html  # pending: no certificate yet (the API answers 409), so no dead link
    assert f'href="/verify?sha256={record.content_sha256}"' in html
    assert 'width="96" height="96"' in html


def test_listing_api_carries_the_same_terms(client, artist, publish):
    artwork = publish(artist, 1)
    listings = client.get(f"/api/v1/artworks/{artwork.public_id}/listings").json()
    body = listings["results"] if isinstance(listings, dict) else listings
    assert body[0]["terms"] == TERMS["personal"].as_dict()


def test_artwork_page_of_a_draft_is_404_for_others_and_shown_to_its_artist(client, artist, make_user, publish):
    draft = publish(artist, 1, title="Unfinished", publish=False)
    assert client.get(f"/artworks/{draft.public_id}", HTTP_ACCEPT="text/html").status_code == 404
    client.force_login(make_user(role="buyer"))
    response = client.get(f"/artworks/{draft.public_id}", HTTP_ACCEPT="text/html")
    assert response.status_code == 404 and b"Page not found" in response.content
    client.force_login(artist)
    html = page(client, f"/artworks/{draft.public_id}")
    assert "Unfinished" in html and "draft" in html


def test_artwork_page_lists_more_by_the_artist_but_not_itself(client, artist, make_user, publish):
    works = [publish(artist, seed) for seed in range(1, 4)]
    stranger_work = publish(make_user(role="artist"), 9)
    html = page(client, f"/artworks/{works[0].public_id}")
    more = html.split('id="more-heading"', 1)[1]
    assert set(card_ids(more)) == {str(works[1].public_id), str(works[2].public_id)}
    assert str(stranger_work.public_id) not in more


def test_the_artist_does_not_get_a_buy_button_on_their_own_work(client, artist, publish):
    artwork = publish(artist, 1)
    client.force_login(artist)
    html = page(client, f"/artworks/{artwork.public_id}")
    assert "/checkout/" not in html and "Your listing." in html


def test_artist_page_shows_profile_portfolio_and_commissions_and_no_email(client, artist, make_user, publish):
    artist.display_name, artist.bio = "Mira", "I paint harbours with GANs."
    artist.save()
    works = [publish(artist, seed) for seed in (1, 2)]
    publish(artist, 3, publish=False)
    html = page(client, f"/artists/{artist.public_id}")
    assert "Mira" in html and "I paint harbours with GANs." in html and "Open to commissions" in html
    assert set(card_ids(html)) == {str(w.public_id) for w in works}
    assert artist.email not in html
    artist.open_to_commissions = False
    artist.save()
    assert "Not taking commissions" in page(client, f"/artists/{artist.public_id}")
    buyer = make_user(role="buyer")
    assert client.get(f"/artists/{buyer.public_id}", HTTP_ACCEPT="text/html").status_code == 404


def test_artist_api_is_public_without_emails(client, artist, make_user, publish):
    artist.display_name = "Mira"
    artist.save()
    publish(artist, 1)
    quiet = make_user(role="artist")  # nothing published: not in the list, but has a profile
    body = client.get(f"/api/v1/artists/{artist.public_id}").json()
    assert body["display_name"] == "Mira" and body["published_count"] == 1 and body["open_to_commissions"]
    assert body["models"] == [] and body["artworks_url"].endswith(f"/api/v1/artworks?artist={artist.public_id}")
    listed = client.get("/api/v1/artists").json()["results"]
    assert [row["id"] for row in listed] == [str(artist.public_id)]
    for text in (str(body), str(listed)):
        assert "@" not in text and "email" not in text
    assert client.get(f"/api/v1/artists/{quiet.public_id}").status_code == 200
    buyer = make_user(role="buyer")
    response = client.get(f"/api/v1/artists/{buyer.public_id}")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/problem+json")


def test_open_to_commissions_is_set_through_the_profile_api(artist, client_for):
    api = client_for(artist)
    assert api.patch("/api/v1/me", {"open_to_commissions": False}, format="json").json()["open_to_commissions"] is False
    artist.refresh_from_db()
    assert artist.open_to_commissions is False


def test_anonymous_pages_are_cached_and_retired_by_a_publish(
    client, artist, publish, settings, django_capture_on_commit_callbacks
):
    settings.GALLERY_BROWSE_CACHE_SECONDS = 60
    with django_capture_on_commit_callbacks(execute=True):
        publish(artist, 1, title="First Light")
    assert "First Light" in page(client, "/gallery")
    publish(artist, 2, title="Unseen Yet")  # (its commit never comes inside this test's transaction)
    assert "Unseen Yet" not in page(client, "/gallery")  # served from the cache
    client.force_login(artist)
    assert "Unseen Yet" in page(client, "/gallery")  # signed in: never the anonymous cache
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        publish(artist, 3, title="Second Light")  # the commit retires every cached page
    html = page(client, "/gallery")
    assert "Second Light" in html and "Unseen Yet" in html
