"""Content Credentials (C2PA): the Django-free engine (c2pa_manifests, certificates); the Django-facing
services are provenance.services.credentials and the reads in provenance.selectors."""

from typing import Any


def manifest_digest_for_record(record: Any) -> str | None:
    """sha256 of the C2PA manifest signed into the record's public preview, or None (provenance.certificates
    quotes it). Imported lazily, so the engine modules stay importable without Django."""
    from provenance.selectors import manifest_digest_for_record as digest

    return digest(record)
