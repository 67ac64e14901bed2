import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from marketplace.gallery.cards import artwork_cards_rebuild
from marketplace.gallery.models import Artwork, ArtworkTag
from marketplace.gallery.selectors import BrowseFilters, artworks_browse
from marketplace.gallery.serializers import card_json
from provenance.models import ProvenanceRecord
from tests.marketplace.gallery.helpers import buy

URL = "/api/v1/artworks"


def seed_rows(artist, count: int, *, start: int = 0, **fields) -> list[Artwork]:
    """Published rows written straight to the table (the read path is under test, not publishing)."""
    now = timezone.now()
    rows = []
    for n in range(start, start + count):
        values = {
            "title": f"Work {n}",
            "tags": ["bulk"],
            "style": "abstract",
            "min_price": 1_000 + n,
            "currency": "USD",
            "offers_personal": True,
            "popularity": n % 7,
        } | fields
        rows.append(
            Artwork(
                artist=artist,
                owner=artist,
                state="published",
                source="upload",
                original=f"o/{n}.png",
                preview=f"p/{n}.jpg",
                width=10,
                height=10,
                content_sha256=f"{n:064x}",
                pdq="0" * 64,
                pdq_quality=0,
                published_at=now - timedelta(minutes=n),
                search_text=f"work {n}\n\nbulk",
                **values,
            )
        )
    created = Artwork.objects.bulk_create(rows)
    ArtworkTag.objects.bulk_create([ArtworkTag(artwork=row, tag=tag) for row in created for tag in row.tags])
    artwork_cards_rebuild(created)
    return created


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


@pytest.fixture
def catalogue(artist, client_for, make_user, make_artwork, make_listing, on_pro_plan):
    """Four real, published works with distinct tags, styles, artists, prices and licences, and one draft."""
    other_artist = make_user(role="artist", display_name="Other")
    on_pro_plan(artist)
    cheap = make_artwork(70, title="Harbour at dawn", tags=["sea", "boats"], style="impressionist")
    make_listing(cheap["id"], price=500)
    dear = make_artwork(71, title="Neon city", description="A rainy street at night.", tags=["city"], style="cyberpunk")
    make_listing(dear["id"], price=90_000, licence_type="commercial")
    euro = make_artwork(
        72, title="Quiet forest", tags=["forest", "sea"], style="impressionist", client=client_for(other_artist)
    )
    make_listing(euro["id"], price=3_000, currency="EUR", client=client_for(other_artist))
    unpriced = make_artwork(73, title="Sketch", tags=["study"])
    make_artwork(74, title="Hidden draft", tags=["sea"], publish=False)
    return {
        "cheap": cheap["id"],
        "dear": dear["id"],
        "euro": euro["id"],
        "unpriced": unpriced["id"],
        "other_artist": str(other_artist.public_id),
    }


@pytest.mark.django_db
def test_browse_is_public_shows_only_published_works_newest_first(api, catalogue):
    assert ids(api.get(URL)) == [catalogue[name] for name in ("unpriced", "euro", "dear", "cheap")]
    card = api.get(URL).json()["results"][1]
    assert card["artist"] == {"id": catalogue["other_artist"], "display_name": "Other"}
    assert card["price"] == {"amount": 3_000, "currency": "EUR"} and card["licence_types"] == ["personal"]
    assert card["preview_url"] == f"http://testserver/api/v1/artworks/{catalogue['euro']}/preview"
    assert card["provenance_status"] == "pending" and card["tags"] == ["forest", "sea"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("tag=sea", ["euro", "cheap"]),
        ("tag=sea&tag=boats", ["cheap"]),
        ("tag=sea&tag=sea", ["euro", "cheap"]),
        ("tag=sea&tag=forest&tag=boats", []),
        ("tag=SEA", ["euro", "cheap"]),
        ("style=impressionist", ["euro", "cheap"]),
        ("price_min=1000", ["euro", "dear"]),
        ("price_max=3000", ["euro", "cheap"]),
        ("price_min=400&price_max=600", ["cheap"]),
        ("currency=eur", ["euro"]),
        ("licence=commercial", ["dear"]),
        ("licence=commercial&licence=personal", ["euro", "dear", "cheap"]),
        ("licence=exclusive", []),
        ("provenance=pending", ["unpriced", "euro", "dear", "cheap"]),
        ("provenance=anchored", []),
        ("q=dawn", ["cheap"]),
        ("q=RAINY+street", ["dear"]),
        ("q=boats", ["cheap"]),
        ("q=sea+harbour", ["cheap"]),
        ("q=nothing-like-this", []),
    ],
)
@pytest.mark.django_db
def test_browse_filters(api, catalogue, query, expected):
    assert ids(api.get(f"{URL}?{query}")) == [catalogue[name] for name in expected]


@pytest.mark.django_db
def test_browse_filters_by_artist_and_by_anchored_provenance(api, catalogue):
    assert ids(api.get(f"{URL}?artist={catalogue['other_artist']}")) == [catalogue["euro"]]
    ProvenanceRecord.objects.filter(subject=f"gallery.artwork:{catalogue['dear']}").update(state="anchored")
    assert ids(api.get(f"{URL}?provenance=anchored")) == [catalogue["dear"]]


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("price", ["cheap", "euro", "dear", "unpriced"]),
        ("-price", ["dear", "euro", "cheap", "unpriced"]),
    ],
)
@pytest.mark.django_db
def test_browse_sorts_by_price_with_unpriced_works_last(api, catalogue, sort, expected):
    assert ids(api.get(f"{URL}?sort={sort}")) == [catalogue[name] for name in expected]


@pytest.mark.django_db
def test_popularity_counts_views_by_others_and_sales(api, artist_client, user_client, catalogue):
    for n in range(3):  # three viewers (a viewer counts once a day)
        api.get(f"{URL}/{catalogue['euro']}", REMOTE_ADDR=f"203.0.113.{n}")
    artist_client.get(f"{URL}/{catalogue['dear']}")  # the artist's own views do not count
    cheap_listing = api.get(f"{URL}/{catalogue['cheap']}/listings").json()[0]
    buy(user_client, cheap_listing["id"])
    popular = api.get(f"{URL}?sort=popular").json()["results"]
    assert [(item["id"], item["popularity"]) for item in popular[:2]] == [
        (catalogue["cheap"], 25),
        (catalogue["euro"], 3),
    ]
    assert Artwork.objects.get(public_id=catalogue["dear"]).view_count == 0


@pytest.mark.parametrize("sort", ["newest", "popular", "price", "-price"])
@pytest.mark.django_db
def test_cursor_pages_walk_forward_and_back_without_gaps_or_repeats(api, artist, sort):
    rows = seed_rows(artist, 11)
    Artwork.objects.filter(pk__in=[rows[2].pk, rows[5].pk]).update(min_price=None)  # nulls inside the order
    Artwork.objects.filter(pk__in=[rows[3].pk, rows[4].pk, rows[6].pk]).update(min_price=1_500)  # ties
    artwork_cards_rebuild()
    everything = ids(api.get(f"{URL}?sort={sort}&page_size=100"))
    assert len(everything) == 11
    pages, url = [], f"{URL}?sort={sort}&page_size=4"
    while url:
        body = api.get(url.removeprefix("http://testserver")).json()
        pages.append([item["id"] for item in body["results"]])
        url = body["next"]
    assert [item for page in pages for item in page] == everything and [len(page) for page in pages] == [4, 4, 3]
    back, url = [], body["previous"]
    while url:
        body = api.get(url.removeprefix("http://testserver")).json()
        back.insert(0, [item["id"] for item in body["results"]])
        url = body["previous"]
    assert back == pages[:-1]


@pytest.mark.parametrize(
    "query, field",
    [
        ("sort=random", "sort"),
        ("price_min=cheap", "price_min"),
        ("price_min=-1", "price_min"),
        ("page_size=0", "page_size"),
        ("page_size=1000", "page_size"),
        ("licence=forever", "licence"),
        ("provenance=mined", "provenance"),
        ("artist=not-a-uuid", "artist"),
        ("cursor=%%%", "cursor"),
        ("price_min=10&price_max=5", "price_min"),
        ("price_max=99999999999999999999999", "price_max"),
        ("q=a%00b", "q"),
        ("tag=x%00", "tag"),
    ],
)
@pytest.mark.django_db
def test_bad_browse_parameters_are_400_naming_the_parameter(api, query, field):
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 400 and field in response.json()["errors"]


@pytest.mark.django_db
def test_a_cursor_made_for_another_sort_is_400(api, artist):
    seed_rows(artist, 3)
    cursor = api.get(f"{URL}?page_size=1").json()["next"].split("cursor=")[1]
    response = api.get(f"{URL}?sort=price&cursor={cursor}")
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "sort=popular",
        "sort=price",
        "sort=-price",
        "tag=bulk&q=work&style=abstract&licence=personal",
        "provenance=pending&price_min=1&currency=usd&tag=bulk",
    ],
)
@pytest.mark.django_db
def test_list_queries_stay_constant_whatever_the_page_size(
    api, user_client, artist, make_artwork, make_listing, django_assert_max_num_queries, settings, query
):
    settings.GALLERY_BROWSE_CACHE_SECONDS = 0  # measure the database path, not the page cache
    real = make_artwork(75, tags=["bulk"], style="abstract")
    make_listing(real["id"], price=5_000)
    seed_rows(artist, 60)
    matching = len(ids(api.get(f"{URL}?page_size=100&{query}")))
    assert matching >= 1
    counts = {}
    for client, who in ((api, "anonymous"), (user_client, "signed-in")):
        client.get(URL)  # a token's first use is recorded once; that write is not the list's
        for size in (1, 50):
            with CaptureQueriesContext(connection) as captured, django_assert_max_num_queries(4):
                response = client.get(f"{URL}?page_size={size}&{query}")
            assert len(ids(response)) == min(size, matching)
            counts[(who, size)] = len(captured)
    assert counts[("anonymous", 1)] == counts[("anonymous", 50)] == 1
    assert counts[("signed-in", 1)] == counts[("signed-in", 50)]


@pytest.mark.django_db
def test_the_other_lists_run_constant_queries(
    artist_client, user_client, make_artwork, make_listing, django_assert_max_num_queries
):
    for seed in (76, 77, 78):
        buy(user_client, make_listing(make_artwork(seed)["id"])["id"])
    for client, url in (
        (artist_client, "/api/v1/artworks/mine"),
        (user_client, "/api/v1/orders"),
        (artist_client, "/api/v1/sales"),
        (user_client, "/api/v1/licences"),
    ):
        counts = []
        client.get(url)
        for size in (1, 50):
            with CaptureQueriesContext(connection) as captured, django_assert_max_num_queries(5):
                response = client.get(f"{url}?page_size={size}")
            assert len(response.json()["results"]) == min(size, 3)
            counts.append(len(captured))
        assert counts[0] == counts[1], url


def test_the_documented_parameters_are_the_parsed_ones():
    """Browse parses its query string by hand (speed); the OpenAPI serializer must document exactly those."""
    import inspect

    from marketplace.gallery import serializers

    source = inspect.getsource(serializers.browse_query_parse) + inspect.getsource(serializers._whole)
    documented = set(serializers.BrowseQuerySerializer().fields)
    parsed = {name for name in documented if f'"{name}"' in source}
    assert parsed == documented


@pytest.mark.django_db
def test_identical_browse_requests_reuse_the_rendered_page_until_a_write_changes_it(
    api, artist_client, make_artwork, make_listing, django_assert_num_queries, django_capture_on_commit_callbacks
):
    first = make_artwork(80)
    assert ids(api.get(URL)) == [first["id"]]
    with django_assert_num_queries(0):
        assert ids(api.get(URL)) == [first["id"]]
    Artwork.objects.filter(public_id=first["id"]).update(title="Changed behind the services' back")
    assert api.get(URL).json()["results"][0]["title"] == "Dawn"  # still the cached page
    with django_capture_on_commit_callbacks(execute=True):
        second = make_artwork(81)  # publishing retires the cached pages once it commits
    assert ids(api.get(URL)) == [second["id"], first["id"]]
    with django_capture_on_commit_callbacks(execute=True):
        make_listing(first["id"], price=700)
    assert api.get(URL).json()["results"][1]["price"] == {"amount": 700, "currency": "USD"}


@pytest.mark.django_db
def test_the_page_cache_can_be_switched_off(api, make_artwork, settings, django_assert_num_queries):
    settings.GALLERY_BROWSE_CACHE_SECONDS = 0
    make_artwork(82)
    api.get(URL)
    with django_assert_num_queries(1):
        api.get(URL)


@pytest.mark.django_db
def test_a_forged_cursor_with_an_out_of_range_position_is_400(api, artist):
    import base64
    import json

    for position in (
        {"s": "newest", "v": "2026-01-01T00:00:00+00:00", "i": 10**30},
        {"s": "popular", "v": 10**30, "i": 1},
        {"s": "popular", "v": True, "i": 1},
    ):
        sort = position["s"]
        token = base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")
        response = api.get(f"{URL}?sort={sort}&cursor={token}")
        assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"


# --- the page's bytes: what DRF's JSONRenderer would write (browse renders with orjson, for speed) ----------

HOSTILE = [
    'quote " and backslash \\ and slash /',
    "line\nbreak\ttab\rreturn\bback\x0cfeed",
    "control \x01\x1f\x7f characters",  # (PostgreSQL text holds no NUL; the property test has one)
    "separators \u2028 and \u2029 (JavaScript line ends)",
    "non-ASCII: Ærøskøbing, 東京, emoji 🎨, combining e\u0301",
    "<script>alert(1)</script> & ' \u00a0",
]


def drf_rendered(body: bytes) -> bytes:
    """The same page written by DRF's JSONRenderer (the renderer of every other endpoint)."""
    import json

    from rest_framework.renderers import JSONRenderer

    return JSONRenderer().render(json.loads(body))


@pytest.mark.django_db
def test_browse_pages_are_byte_for_byte_what_drfs_renderer_writes(api, artist, make_user, settings):
    from urllib.parse import parse_qs, urlsplit

    from rest_framework.utils.urls import replace_query_param

    settings.GALLERY_BROWSE_CACHE_SECONDS = 0
    other = make_user(role="artist", display_name=HOSTILE[3])
    rows = seed_rows(artist, 8, title=HOSTILE[0]) + seed_rows(other, 8, start=8)
    for n, row in enumerate(rows):  # every licence combination, priced and not, hostile text everywhere
        row.offers_personal, row.offers_commercial, row.offers_exclusive = bool(n & 1), bool(n & 2), bool(n & 4)
        row.title = HOSTILE[n % len(HOSTILE)]
        row.style = "" if n % 5 == 0 else "abstract"
        row.tags = [] if n % 4 == 0 else ["bulk", HOSTILE[n % len(HOSTILE)]]
        row.min_price = None if n % 3 == 0 else row.min_price
        row.currency = "" if row.min_price is None else "EUR"
    Artwork.objects.bulk_update(
        rows,
        ["offers_personal", "offers_commercial", "offers_exclusive", "title", "style", "tags", "min_price", "currency"],
    )
    artwork_cards_rebuild()
    seen = {}
    for sort in ("newest", "popular", "price", "-price"):
        url, pages = f"{URL}?sort={sort}&page_size=3", 0
        while url:
            response = api.get(url)
            assert response.status_code == 200
            body = response.content
            assert body == drf_rendered(body), url
            page = response.json()
            cursor = parse_qs(urlsplit(url).query).get("cursor", [None])[0]
            from_columns = artworks_browse(filters=BrowseFilters(sort=sort), cursor=cursor, page_size=3)
            assert page["results"] == json.loads(
                json.dumps([card_json(card, base_url="http://testserver") for card in from_columns.rows])
            )
            for link in ("next", "previous"):
                if page[link]:
                    token = parse_qs(urlsplit(page[link]).query)["cursor"][0]
                    assert page[link] == replace_query_param(f"http://testserver{url}", "cursor", token)
            for card in page["results"]:
                seen[card["id"]] = card["licence_types"]
            url, pages = (page["next"].removeprefix("http://testserver") if page["next"] else None), pages + 1
        assert pages == 6
    names = ("personal", "commercial", "exclusive")
    assert seen == {
        str(row.public_id): [name for bit, name in enumerate(names) if n & (1 << bit)] for n, row in enumerate(rows)
    }
    cards = api.get(f"{URL}?artist={other.public_id}&page_size=2").json()["results"]  # rows 8 and 9
    assert [card["artist"]["display_name"] for card in cards] == [HOSTILE[3], HOSTILE[3]]
    assert [card["tags"] for card in cards] == [[], ["bulk", HOSTILE[9 % len(HOSTILE)]]]
    assert [card["title"] for card in cards] == [HOSTILE[8 % len(HOSTILE)], HOSTILE[9 % len(HOSTILE)]]


text = st.text(st.characters(codec="utf-8"), max_size=30)


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    title=text,
    name=text,
    tags=st.lists(text, max_size=4),
    style=text,
    price=st.none() | st.integers(min_value=0, max_value=10**12),
    popularity=st.integers(min_value=0, max_value=2**62),
    status=st.none() | text,
)
@example(
    title=HOSTILE[3],
    name="nul \x00" + HOSTILE[2],
    tags=HOSTILE[:2],
    style=HOSTILE[1],
    price=0,
    popularity=0,
    status=None,
)
def test_pre_rendered_cards_give_what_drfs_renderer_writes_on_any_text(
    title, name, tags, style, price, popularity, status
):
    from types import SimpleNamespace
    from uuid import UUID

    from rest_framework.renderers import JSONRenderer

    from marketplace.gallery.browse import Card, CardRow
    from marketplace.gallery.cards import artist_json, card_text
    from marketplace.gallery.keyset import Cursor, Page
    from marketplace.gallery.serializers import browse_cards_page_json, card_json

    card = Card(
        7,
        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        title,
        style,
        tags,
        1024,
        768,
        price,
        "USD" if price is not None else "",
        ("personal", "exclusive"),
        popularity,
        "2026-11-28T17:03:11.512345Z",
        "16fd2706-8baf-433b-82eb-8c7fada847da",
        name,
        status,
    )
    artwork = SimpleNamespace(
        public_id=UUID(card.public_id),
        title=title,
        style=style,
        tags=tags,
        width=1024,
        height=768,
        min_price=price,
        currency=card.currency,
        offers_personal=True,
        offers_commercial=False,
        offers_exclusive=True,
        published_at=datetime(2026, 11, 28, 17, 3, 11, 512345, tzinfo=UTC),
    )
    row = CardRow(7, None, card_text(artwork), artist_json(card.artist_id, name), popularity, status)
    cursor = Cursor(sort="newest", value=None, row_id=7)
    url = "http://testserver/api/v1/artworks"
    expected = JSONRenderer().render(
        {
            "next": f"{url}?cursor={cursor.encode()}",
            "previous": None,
            "results": [card_json(card, base_url="http://testserver")] * 2,
        }
    )
    page = Page(rows=[row, row], next=cursor, previous=None)
    assert browse_cards_page_json(page, url=url, base_url="http://testserver") == expected
