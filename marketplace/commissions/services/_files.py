"""Private image files: uploads are validated and re-encoded before anything is stored, and what a failed
transaction leaves behind is deleted."""

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core.errors import InvalidInput, PayloadTooLarge
from core.uploads import CleanImage, ImageRejected, image_clean
from marketplace.commissions import conf


@dataclass(frozen=True)
class Cleaned:
    name: str
    image: CleanImage


def clean_uploads(*, files: Sequence[Any], field: str, max_count: int) -> list[Cleaned]:
    """Validate every upload first (SVG, polyglots, bombs, truncation are refused), so a bad file stores nothing."""
    if len(files) > max_count:
        raise InvalidInput(f"At most {max_count} images.", field=field, limit=max_count)
    cleaned = []
    for upload in files:
        name = getattr(upload, "name", None) or "upload"
        max_bytes = conf.get("COMMISSION_IMAGE_MAX_BYTES")
        if getattr(upload, "size", 0) > max_bytes:
            raise PayloadTooLarge(f"{name}: {upload.size} bytes is over the {max_bytes}-byte limit.")
        upload.seek(0)
        raw = upload.read()
        try:
            image = image_clean(raw=raw, name=name, max_bytes=max_bytes)
        except ImageRejected as exc:
            raise ImageRejected(exc.detail, field=field) from None
        cleaned.append(Cleaned(name=name[:255], image=image))
    return cleaned


def save_exact(path: str, data: bytes) -> str:
    """Store under exactly `path` (a retried write replaces what an earlier attempt left)."""
    if default_storage.exists(path):
        default_storage.delete(path)
    return default_storage.save(path, ContentFile(data))


def delete_quietly(paths: Iterable[str]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            default_storage.delete(path)


def open_file(path: str) -> Any:
    return default_storage.open(path, "rb")
