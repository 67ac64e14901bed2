"""PostgreSQL only: a trigram GIN index so `search_text LIKE '%word%'` (browse's text search) is an index scan
over 100k+ published works instead of a sequential scan, and the index behind "most expensive first"
(`min_price DESC NULLS LAST`, which SQLite's CREATE INDEX cannot express; SQLite sorts that one itself)."""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger("atelier.gallery")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS gallery_aw_price_desc ON gallery_artwork "
        "(min_price DESC NULLS LAST, id DESC) WHERE state = 'published'"
    )
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:  # no right to create extensions: search still works, unindexed
        logger.warning("pg_trgm unavailable (%s); gallery text search will not be indexed", exc)
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS gallery_aw_search_trgm ON gallery_artwork "
        "USING gin (search_text gin_trgm_ops) WHERE state = 'published'"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS gallery_aw_search_trgm")
        schema_editor.execute("DROP INDEX IF EXISTS gallery_aw_price_desc")


class Migration(migrations.Migration):
    dependencies = [("gallery", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
