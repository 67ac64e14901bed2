"""Profile pictures: uploaded like every image (hostile files refused, nothing stored), cropped square, served
publicly under a URL that changes with the picture."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from marketplace.accounts.avatars import AVATAR_MAX_BYTES, AVATAR_SIDE
from marketplace.accounts.models import User

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def picture(size=(300, 200), color=(20, 120, 200), fmt="JPEG") -> bytes:
    image = Image.new("RGB", size, color)
    image.paste((250, 200, 0), (size[0] // 3, 0, 2 * size[0] // 3, size[1]))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def put_avatar(client, data: bytes, name: str = "me.jpg"):
    return client.put("/api/v1/me/avatar", {"file": SimpleUploadedFile(name, data)}, format="multipart")


def stored(media: Path) -> list[Path]:
    return sorted(path for path in media.rglob("*") if path.is_file())


def relative(url: str) -> str:
    return url.removeprefix("http://testserver")


@pytest.mark.django_db
def test_an_uploaded_picture_is_cropped_square_and_served_publicly(user_client, user, media):
    response = put_avatar(user_client, picture())
    assert response.status_code == 200, response.json()
    url = response.json()["avatar"]
    assert url.startswith(f"http://testserver/api/v1/users/{user.public_id}/avatar?v=")
    assert user_client.get("/api/v1/me").json()["avatar"] == url

    served = APIClient().get(relative(url))  # anonymous
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert "public" in served["Cache-Control"]
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert image.format == "PNG" and image.size == (AVATAR_SIDE, AVATAR_SIDE)
    assert len(stored(media)) == 1


@pytest.mark.django_db
def test_a_new_picture_gets_a_new_url_and_the_old_file_is_deleted(
    user_client, media, django_capture_on_commit_callbacks
):
    first = put_avatar(user_client, picture(color=(10, 10, 10))).json()["avatar"]
    old_files = stored(media)
    with django_capture_on_commit_callbacks(execute=True):  # the old file goes once the change has committed
        second = put_avatar(user_client, picture(color=(240, 240, 240)), name="new.png").json()["avatar"]
    assert second != first
    assert len(stored(media)) == 1 and stored(media) != old_files


@pytest.mark.django_db
def test_removing_the_picture_deletes_the_file_and_the_url_answers_404(
    user_client, user, media, django_capture_on_commit_callbacks
):
    url = put_avatar(user_client, picture()).json()["avatar"]
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.delete("/api/v1/me/avatar")
    assert response.status_code == 200 and response.json()["avatar"] is None
    assert stored(media) == []
    gone = APIClient().get(relative(url))
    assert gone.status_code == 404 and gone["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("evil.svg", SVG, 400),
        ("polyglot.png", picture(fmt="PNG") + b"PK\x03\x04" + b"\0" * 64, 400),
        ("truncated.jpg", picture()[:300], 400),
        ("empty.png", b"", 400),
        ("huge.png", b"\x89PNG\r\n\x1a\n" + b"\0" * AVATAR_MAX_BYTES, 413),
    ],
)
@pytest.mark.django_db
def test_hostile_or_oversized_files_are_refused_and_change_nothing(user_client, user, media, name, data, status):
    before = put_avatar(user_client, picture()).json()["avatar"]
    files_before = stored(media)
    response = put_avatar(user_client, data, name=name)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert user_client.get("/api/v1/me").json()["avatar"] == before
    assert stored(media) == files_before


@pytest.mark.django_db
def test_a_decompression_bomb_is_refused(user_client, user, media):
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG")
    response = put_avatar(user_client, out.getvalue(), name="bomb.png")
    assert response.status_code == 400 and "pixel" in response.json()["detail"]
    assert not User.objects.get(pk=user.pk).avatar and stored(media) == []


@pytest.mark.django_db
def test_the_picture_is_not_a_profile_field_and_needs_the_profile_write_scope(user_client, api, media):
    assert user_client.patch("/api/v1/me", {"avatar": "avatars/x.png"}, format="json").status_code == 400
    assert put_avatar(api, picture()).status_code == 401
    secret = user_client.post("/api/v1/api-keys", {"name": "ro", "scopes": ["profile:read"]}, format="json").json()[
        "key"
    ]
    read_only = APIClient()
    read_only.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert put_avatar(read_only, picture()).status_code == 403
    assert stored(media) == []


@pytest.mark.django_db
def test_a_user_without_a_picture_or_an_unknown_user_is_404(api, user):
    assert api.get(f"/api/v1/users/{user.public_id}/avatar").status_code == 404
    assert api.get("/api/v1/users/00000000-0000-0000-0000-000000000000/avatar").status_code == 404
