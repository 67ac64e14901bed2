from django.db import migrations, models
from django.db.models.functions import Substr


def backfill(apps, schema_editor):
    """Until now the key was the first 48 bits of the content's sha256 (previews carried it): keep finding those.
    Lineage records (a manifest of their own) describe no image, so they get none."""
    record = apps.get_model("provenance", "ProvenanceRecord")
    record.objects.filter(manifest={}).update(watermark_key=Substr("content_sha256", 1, 12))


class Migration(migrations.Migration):
    dependencies = [
        ("provenance", "0004_content_credential"),
    ]

    operations = [
        migrations.AddField(
            model_name="provenancerecord",
            name="watermark_key",
            field=models.CharField(blank=True, db_index=True, default="", max_length=12),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
