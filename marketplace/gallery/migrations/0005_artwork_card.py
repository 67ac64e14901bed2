from django.db import migrations, models


def fill(apps, schema_editor):
    from marketplace.gallery.cards import artwork_cards_rebuild

    artwork_cards_rebuild(model=apps.get_model("gallery", "Artwork"))


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0004_artwork_watermark_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="artwork",
            name="card",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
