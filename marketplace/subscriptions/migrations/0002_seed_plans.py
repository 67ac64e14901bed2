"""Seed the three plans. Prices in US cents per month; quotas per period; staff edit them in the admin."""

from django.db import migrations

MB, GB = 1024**2, 1024**3
PLANS = [
    {"code": "free", "name": "Free", "price": 0, "rank": 0,
     "description": "Try Atelier: a few generations a month, one small training run.",
     "generations_per_period": 50, "training_runs_per_period": 1, "max_resolution": 256,
     "max_dataset_images": 500, "max_dataset_bytes": 200 * MB, "allows_commercial_licences": False},
    {"code": "pro", "name": "Pro", "price": 1_500, "rank": 10,
     "description": "For working artists: more generations, larger models, commercial licences.",
     "generations_per_period": 2_000, "training_runs_per_period": 10, "max_resolution": 512,
     "max_dataset_images": 10_000, "max_dataset_bytes": 2 * GB, "allows_commercial_licences": True},
    {"code": "studio", "name": "Studio", "price": 4_900, "rank": 20,
     "description": "For studios: high-resolution models, large datasets, heavy generation.",
     "generations_per_period": 10_000, "training_runs_per_period": 50, "max_resolution": 1024,
     "max_dataset_images": 100_000, "max_dataset_bytes": 20 * GB, "allows_commercial_licences": True},
]


def seed(apps, schema_editor):
    Plan = apps.get_model("subscriptions", "Plan")
    for fields in PLANS:
        Plan.objects.get_or_create(code=fields["code"], defaults={**fields, "currency": "USD", "period": "month"})


def unseed(apps, schema_editor):
    apps.get_model("subscriptions", "Plan").objects.filter(code__in=[p["code"] for p in PLANS]).delete()


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
