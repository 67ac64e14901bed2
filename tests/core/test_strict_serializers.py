"""Write serializers take JSON values of their declared types only, down to the items of a list."""

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from core.serializers import StrictSerializer
from marketplace.gallery.models import Artwork


class TagsInput(StrictSerializer):
    title = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    sizes = serializers.ListField(child=serializers.IntegerField(), required=False)


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"title": 5}, {"title": ["Must be a string."]}),
        ({"title": "t", "tags": "dawn"}, {"tags": ["Must be a list."]}),
        ({"title": "t", "tags": ["dawn", 5, True]}, {"tags": {1: ["Must be a string."], 2: ["Must be a string."]}}),
        (
            {"title": "t", "sizes": [1, "2", False]},
            {"sizes": {1: ["Must be a whole number."], 2: ["Must be a whole number."]}},
        ),
    ],
)
def test_wrong_json_types_are_refused_with_the_place_named(payload, errors):
    form = TagsInput(data=payload)
    assert not form.is_valid()
    assert form.errors == errors


def test_values_of_the_right_types_pass_unchanged():
    form = TagsInput(data={"title": "t", "tags": ["dawn", "neon"], "sizes": [1, 2]})
    assert form.is_valid(), form.errors
    assert form.validated_data == {"title": "t", "tags": ["dawn", "neon"], "sizes": [1, 2]}


@pytest.mark.django_db
def test_a_list_item_of_the_wrong_type_is_a_400_through_the_api(make_user):
    artist = make_user(role="artist")
    client = APIClient()
    client.force_authenticate(artist)
    response = client.post("/api/v1/artworks", {"title": "Dawn", "tags": ["dawn", 7]}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"] == {"tags.1": ["Must be a string."]}
    assert not Artwork.objects.exists()
