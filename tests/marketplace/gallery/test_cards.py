"""The API's browse reads pre-rendered cards (marketplace/gallery/cards.py): whatever the services write, the
cards it serves are what the columns say, the live values (artist name, popularity, provenance status) change
without any card being rewritten, and a card that a bulk write left behind is caught and repaired."""

import importlib

import orjson
import pytest
from django.apps import apps
from django.core.management import call_command

from marketplace.gallery.cards import SPLICE, artwork_cards_rebuild, artworks_with_stale_cards
from marketplace.gallery.models import Artwork
from marketplace.gallery.selectors import BrowseFilters, artworks_browse
from marketplace.gallery.serializers import card_json
from provenance.models import ProvenanceRecord

URL = "/api/v1/artworks"


def served(api) -> list[dict]:
    response = api.get(URL)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def from_columns() -> list[dict]:
    """The same page read column by column (what the storefront pages use)."""
    page = artworks_browse(filters=BrowseFilters(), cursor=None, page_size=20)
    return orjson.loads(orjson.dumps([card_json(card, base_url="http://testserver") for card in page.rows]))


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    settings.GALLERY_BROWSE_CACHE_SECONDS = 0


@pytest.mark.django_db
def test_every_service_write_keeps_the_served_card_what_the_columns_say(
    api, artist, artist_client, make_artwork, make_listing
):
    from marketplace.accounts.services import user_update_profile

    draft = make_artwork(11, publish=False, title="First light", tags=["dawn"], style="minimal")
    stored = Artwork.objects.get(public_id=draft["id"]).card
    assert stored.count(SPLICE) == 4 and '"title":"First light"' in stored
    assert served(api) == []
    assert artist_client.post(f"{URL}/{draft['id']}/publish").status_code == 200
    assert served(api) == from_columns() and served(api)[0]["published_at"]
    edit = {"title": 'Last "light" <i>', "tags": ["dusk", "night"], "style": "noir"}
    assert artist_client.patch(f"{URL}/{draft['id']}", edit, format="json").status_code == 200
    (card,) = served(api)
    assert (card["title"], card["tags"], card["style"]) == ('Last "light" <i>', ["dusk", "night"], "noir")
    listing = make_listing(draft["id"], price=1_250)
    assert served(api)[0]["price"] == {"amount": 1_250, "currency": "USD"}
    assert served(api)[0]["licence_types"] == ["personal"]
    assert artist_client.post(f"/api/v1/listings/{listing['id']}/close").status_code == 200
    assert served(api)[0]["price"] is None and served(api)[0]["licence_types"] == []
    assert served(api) == from_columns()
    before = Artwork.objects.get(public_id=draft["id"]).card
    # the live values: other rows change, the card text does not
    user_update_profile(user=artist, display_name='Ana "the" Artist')
    Artwork.objects.filter(public_id=draft["id"]).update(popularity=41)
    ProvenanceRecord.objects.filter(subject=f"gallery.artwork:{draft['id']}").update(state="anchored")
    (card,) = served(api)
    assert card["artist"]["display_name"] == 'Ana "the" Artist'
    assert (card["popularity"], card["provenance_status"]) == (41, "anchored")
    assert Artwork.objects.get(public_id=draft["id"]).card == before
    assert served(api) == from_columns()
    assert artist_client.post(f"{URL}/{draft['id']}/withdraw").status_code == 200
    assert served(api) == []
    assert artworks_with_stale_cards() == []


@pytest.mark.django_db
def test_a_write_behind_the_services_back_is_found_and_the_command_repairs_it(api, make_artwork, capsys):
    made = make_artwork(12)
    Artwork.objects.filter(public_id=made["id"]).update(title="Bulk-edited")
    assert [artwork.title for artwork in artworks_with_stale_cards()] == ["Bulk-edited"]
    assert served(api)[0]["title"] == made["title"]  # what a missed writer looks like to a buyer
    call_command("gallery_cards_rebuild")
    assert "1 card(s) re-rendered" in capsys.readouterr().out
    assert artworks_with_stale_cards() == []
    assert served(api)[0]["title"] == "Bulk-edited"
    assert artwork_cards_rebuild() == 0  # nothing left to do


@pytest.mark.django_db
def test_a_missing_card_costs_one_more_query_and_is_served_right(api, make_artwork, django_assert_num_queries):
    first, second = make_artwork(13), make_artwork(14)
    expected = served(api)
    with django_assert_num_queries(1):
        assert served(api) == expected
    Artwork.objects.filter(public_id=first["id"]).update(card="")  # e.g. rows inserted by a raw bulk load
    with django_assert_num_queries(2):
        assert served(api) == expected
    assert [card["id"] for card in expected] == [second["id"], first["id"]]
    artwork_cards_rebuild()


@pytest.mark.django_db
def test_the_migration_fills_the_cards_of_existing_works(api, make_artwork):
    make_artwork(15), make_artwork(16)
    expected = served(api)
    Artwork.objects.update(card="")
    importlib.import_module("marketplace.gallery.migrations.0005_artwork_card").fill(apps, None)
    assert artworks_with_stale_cards() == []
    assert served(api) == expected
