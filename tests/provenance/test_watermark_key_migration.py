"""Migration 0005 adds ProvenanceRecord.watermark_key and backfills it for records made before it: their previews
carry the first 48 bits of the content's sha256, which verify then finds by the stored key. Lineage records
(datasets, models, licences) describe no image and get none."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("provenance", "0004_content_credential")]
AFTER = [("provenance", "0005_watermark_key")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_image_records_get_the_sha256_prefix_and_lineage_records_none():
    old = migrate(BEFORE)
    record = old.get_model("provenance", "ProvenanceRecord")
    common = {"pdq": "0" * 64, "pdq_quality": 100, "creator": "accounts.user:a", "owner": "accounts.user:a"}
    record.objects.create(content_sha256="ab12" * 16, subject="gallery.artwork:1", **common)
    record.objects.create(content_sha256="cd34" * 16, subject="dataset:1", manifest={"kind": "dataset"}, **common)
    try:
        new = migrate(AFTER).get_model("provenance", "ProvenanceRecord")
        keys = dict(new.objects.values_list("subject", "watermark_key"))
        assert keys == {"gallery.artwork:1": "ab12ab12ab12", "dataset:1": ""}
    finally:
        migrate(AFTER)  # leave the schema as the other tests expect
