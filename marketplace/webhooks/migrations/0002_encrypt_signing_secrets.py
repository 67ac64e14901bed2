"""Webhook signing secrets encrypted at rest: widen the columns, encrypt what is stored (in place, by raw
value, with core.crypto's current key), then read them through EncryptedTextField."""

from django.db import migrations, models

import core.crypto

FIELDS = ("secret", "previous_secret")


def _convert(apps, transform) -> None:
    Endpoint = apps.get_model("webhooks", "WebhookEndpoint")  # plain TextFields at this step
    for row in Endpoint.objects.values("pk", *FIELDS):
        Endpoint.objects.filter(pk=row["pk"]).update(
            **{name: transform(row[name]) if row[name] else row[name] for name in FIELDS})


def encrypt(apps, schema_editor):
    _convert(apps, core.crypto.encrypt_str)


def decrypt(apps, schema_editor):
    _convert(apps, core.crypto.decrypt_str)


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(model_name="webhookendpoint", name="secret", field=models.TextField()),
        migrations.AlterField(model_name="webhookendpoint", name="previous_secret", field=models.TextField(blank=True)),
        migrations.RunPython(encrypt, decrypt),
        migrations.AlterField(model_name="webhookendpoint", name="secret", field=core.crypto.EncryptedTextField()),
        migrations.AlterField(model_name="webhookendpoint", name="previous_secret",
                              field=core.crypto.EncryptedTextField(blank=True)),
    ]
