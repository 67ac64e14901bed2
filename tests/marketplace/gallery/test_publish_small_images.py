"""Publishing a JPEG re-save of another artist's small generated work is blocked as a near-duplicate."""

import pytest

from marketplace.gallery.models import Artwork
from provenance.models import ProvenanceRecord
from tests.marketplace.gallery.helpers import upload
from tests.provenance.gan_samples import gan_samples, jpeg, png


@pytest.mark.django_db
def test_a_q75_resave_of_a_published_32px_work_cannot_be_published_by_another_artist(client_for, make_user):
    original_artist, copier = (client_for(make_user(role="artist")) for _ in range(2))
    image = gan_samples()[5]  # its re-save moves PDQ 44 bits
    original = upload(original_artist, raw=png(image)).json()
    assert original_artist.post(f"/api/v1/artworks/{original['id']}/publish").status_code == 200
    draft = upload(copier, raw=jpeg(image)).json()
    response = copier.post(f"/api/v1/artworks/{draft['id']}/publish")
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] == "near_duplicate" and 31 < body["record"]["distance"] <= 48
    assert Artwork.objects.get(public_id=draft["id"]).state == "draft"
    assert ProvenanceRecord.objects.count() == 1
