from django.db import migrations, models
from django.db.models.functions import Substr


def backfill(apps, schema_editor):
    """Works created before originals were marked: their previews carry the first 48 bits of the content's
    sha256 (the key the previous version used); their originals carry nothing."""
    artwork = apps.get_model("gallery", "Artwork")
    artwork.objects.update(watermark_key=Substr("content_sha256", 1, 12))


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0003_order_holds"),
    ]

    operations = [
        migrations.AddField(
            model_name="artwork",
            name="watermark_key",
            field=models.CharField(blank=True, default="", max_length=12),
        ),
        migrations.AddField(
            model_name="artwork",
            name="original_watermarked",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
