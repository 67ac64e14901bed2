import pytest


@pytest.mark.django_db
def test_home_page_says_nothing_is_published_yet_and_links_the_site(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for link in ("/gallery", "/verify", "/login", "/signup", "/api/docs/"):
        assert f'href="{link}' in html
    assert "Nothing published yet" in html


@pytest.mark.django_db
def test_home_page_shows_published_artworks_only(client, artist, publish):
    published = publish(artist, 1, title="Harbour at Dusk")
    draft = publish(artist, 2, title="Secret Draft", publish=False)
    html = client.get("/").content.decode()
    assert "Harbour at Dusk" in html and f"/api/v1/artworks/{published.public_id}/preview" in html
    assert "Secret Draft" not in html and str(draft.public_id) not in html
