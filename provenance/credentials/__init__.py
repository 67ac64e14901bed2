"""Content Credentials (C2PA): the Django-free engine (c2pa_manifests, certificates) and nothing else; the
Django-facing services are provenance.services.credentials and the reads in provenance.selectors."""
