"""Helpers for the gallery tests (fixtures live in conftest.py): distinct real images, uploading and buying through
the API."""

from django.core.files.uploadedfile import SimpleUploadedFile

from bench.synthetic_images import encode_png, synthetic_image

PNG_SIZE = (160, 120)


def image_png(seed: int, size: tuple[int, int] = PNG_SIZE) -> bytes:
    """A distinct picture per seed, with enough structure for a usable perceptual hash."""
    return encode_png(synthetic_image(seed, size=size))


def upload(client, seed: int = 1, *, raw: bytes | None = None, title: str = "Dawn", **fields):
    payload = {
        "title": title,
        "file": SimpleUploadedFile("art.png", raw if raw is not None else image_png(seed)),
        **fields,
    }
    return client.post("/api/v1/artworks", payload, format="multipart")


def buy(client, listing_id: str, *, payment_method: str | None = "tok_visa", key: str | None = None):
    body = {"listing": listing_id} | ({"payment_method": payment_method} if payment_method else {})
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/orders", body, format="json", **headers)
