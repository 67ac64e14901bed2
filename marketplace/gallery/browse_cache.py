"""Micro-caching of public browse pages: the rendered JSON of a page is kept for GALLERY_BROWSE_CACHE_SECONDS
(default 5) under a key made of the request's URL and a version number, so a burst of identical requests (the
front page) costs one query per page per interval instead of one per request.

Writes that change what browse shows (publishing, withdrawing, editing, listings, sales, refunds) bump the
version after their transaction commits, so those are visible at once wherever the cache is shared (Redis,
REDIS_URL). With the per-process local-memory cache the other processes catch up when their copy expires;
view counts and provenance status changes are never pushed, and show within the interval too.
"""

import hashlib
import time

from django.core.cache import cache
from django.db import transaction

from marketplace.gallery import conf

VERSION_KEY = "gallery:browse:version"


def _fresh_version() -> int:
    # milliseconds: a version lost to eviction restarts above every number it could have reached
    return int(time.time() * 1000)


def _version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, _fresh_version(), timeout=None)
        version = cache.get(VERSION_KEY) or _fresh_version()
    return version


def page_key(*, url: str) -> str | None:
    """The cache key of a browse page (None when caching is off)."""
    if conf.get("GALLERY_BROWSE_CACHE_SECONDS") <= 0:
        return None
    digest = hashlib.sha256(url.encode()).hexdigest()[:32]
    return f"gallery:browse:{_version()}:{digest}"


def page_get(key: str) -> bytes | None:
    return cache.get(key)


def page_set(key: str, body: bytes) -> None:
    cache.set(key, body, timeout=conf.get("GALLERY_BROWSE_CACHE_SECONDS"))


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # evicted
        cache.set(VERSION_KEY, _fresh_version(), timeout=None)


def browse_changed() -> None:
    """Call from a write that changes what browse shows; pages are retired when (if) it commits."""
    transaction.on_commit(_bump)
