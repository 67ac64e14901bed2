"""Media wherever it is stored: on the local filesystem (the default) or in an S3-compatible bucket.

Code that needs a file on a local path (torch, onnxruntime, Pillow by path) asks `media_local_path` with the
file's sha256: with filesystem storage that is the stored file itself; with a bucket it is a copy in the bounded
local cache (`MediaCache`), fetched on first use. Results are written back with `media_save_file`. Downloads
of private files leave through `media_presigned_url` (a bucket) or are served by Django (the filesystem).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, default_storage

logger = logging.getLogger("atelier.media")

CHUNK = 1024 * 1024


class MediaIntegrityError(Exception):
    """The stored object's bytes do not hash to what its row says."""


def media_is_remote() -> bool:
    """True when media lives in object storage (no local path), False for the filesystem."""
    return not isinstance(default_storage, FileSystemStorage)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class MediaCache:
    """Local copies of stored objects, keyed by content hash, checked on every read, evicted LRU by size.

    A hit is re-hashed before it is handed out: a copy whose bytes changed on disk (a flipped bit, a truncated
    write) is dropped and fetched again. Use refreshes a file's mtime, and eviction removes the least recently
    used files until the cache is within `max_bytes` (the file just fetched always stays, even if alone it is
    larger). Several processes may share one directory: every write is a rename of a finished temporary file.
    """

    def __init__(self, *, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def path_for(self, sha256: str, suffix: str = "") -> Path:
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def fetch(self, *, name: str, sha256: str, storage: Any = None) -> Path:
        """A verified local copy of stored object `name`, whose content hash is `sha256`."""
        storage = storage or default_storage
        path = self.path_for(sha256, Path(name).suffix)
        if path.is_file():
            if sha256_file(path) == sha256:
                with contextlib.suppress(FileNotFoundError):
                    os.utime(path)
                    return path
            else:
                logger.warning("media cache: %s does not match its hash; fetching it again", path)
                path.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".fetch-")
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, storage.open(name, "rb") as source:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != sha256:
                raise MediaIntegrityError(f"stored object {name} hashes to {digest.hexdigest()}, not {sha256}")
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.evict(keep=path)
        return path

    def add(self, *, path: Path, sha256: str, suffix: str = "") -> Path:
        """Put a local file the caller just wrote (and stored) into the cache, so a later read needs no fetch."""
        target = self.path_for(sha256, suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".add-")
        with os.fdopen(fd, "wb") as out, path.open("rb") as source:
            while chunk := source.read(CHUNK):
                out.write(chunk)
        os.replace(temporary, target)
        self.evict(keep=target)
        return target

    def derived_path(self, name: str) -> Path:
        """Where a file derived locally from cached objects lives (counted and evicted like the rest); the caller
        checks what it reads there (e.g. a prepared dataset carries its dataset hash)."""
        return self.root / "derived" / name

    def touch(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.utime(path)

    def entries(self) -> list[tuple[float, int, Path]]:
        """(mtime, size, path) of every cached file, least recently used first."""
        found = []
        for path in self.root.glob("*/*"):
            if path.name.startswith("."):
                continue
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                found.append((stat.st_mtime, stat.st_size, path))
        return sorted(found)

    def size(self) -> int:
        return sum(size for _, size, _ in self.entries())

    def evict(self, *, keep: Path | None = None) -> list[Path]:
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        evicted = []
        for _, size, path in entries:
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            path.unlink(missing_ok=True)
            total -= size
            evicted.append(path)
        return evicted


def media_cache() -> MediaCache:
    return MediaCache(root=Path(settings.MEDIA_CACHE_DIR), max_bytes=int(settings.MEDIA_CACHE_MAX_BYTES))


def media_local_path(*, name: str, sha256: str) -> Path:
    """A local path holding stored file `name` (content hash `sha256`): the file itself on the filesystem, a
    verified cached copy when media is in a bucket."""
    if not media_is_remote():
        return Path(default_storage.path(name))
    return media_cache().fetch(name=name, sha256=sha256)


def media_save_file(*, name: str, path: Path, sha256: str | None = None, cache: bool = True) -> str:
    """Store local file `path` under exactly `name` (replacing what an earlier attempt left); with a bucket
    the file also enters the local cache (unless `cache` is False: nothing here will read it). Returns the
    stored name."""
    if default_storage.exists(name):
        default_storage.delete(name)
    with path.open("rb") as handle:
        stored = default_storage.save(name, File(handle, name=Path(name).name))
    if cache and media_is_remote():
        media_cache().add(path=path, sha256=sha256 or sha256_file(path), suffix=Path(name).suffix)
    return stored


def media_presigned_url(*, name: str, expires_in: int, filename: str, content_type: str) -> str | None:
    """A presigned GET of `name` valid for `expires_in` seconds (at most STORAGE_PRESIGNED_TTL_SECONDS), served as
    an attachment; None when media is on the filesystem (Django serves the file itself)."""
    if not media_is_remote():
        return None
    expires_in = max(1, min(int(expires_in), int(settings.STORAGE_PRESIGNED_TTL_SECONDS)))
    safe = filename.replace('"', "")
    return default_storage.url(
        name,
        expire=expires_in,
        parameters={
            "ResponseContentDisposition": f'attachment; filename="{safe}"',
            "ResponseContentType": content_type,
            "ResponseCacheControl": "private, no-store",
        },
    )
