import pytest

from marketplace.gallery import services as gallery
from provenance.synthetic_images import encode_png, synthetic_image


@pytest.fixture
def artwork_of(settings, tmp_path, artist):
    settings.MEDIA_ROOT = tmp_path / "media"

    def make(*, title: str, seed: int, publish: bool = True):
        artwork = gallery.artwork_create_from_upload(artist=artist, raw=encode_png(synthetic_image(seed)),
                                                     filename=f"{seed}.png", title=title)
        return gallery.artwork_publish(artist=artist, artwork=artwork) if publish else artwork

    return make


@pytest.mark.django_db
def test_home_page_links_the_parts_and_shows_no_artworks_yet(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for link in ("/api/docs/", "/admin/", "/dashboard/", "/healthz"):
        assert f'href="{link}"' in html
    assert "Nothing published yet" in html


@pytest.mark.django_db
def test_home_page_shows_published_artworks_only(client, artwork_of):
    published = artwork_of(title="Harbour at Dusk", seed=1)
    draft = artwork_of(title="Secret Draft", seed=2, publish=False)
    html = client.get("/").content.decode()
    assert "Harbour at Dusk" in html and f"/api/v1/artworks/{published.public_id}/preview" in html
    assert "Secret Draft" not in html and str(draft.public_id) not in html
