"""The default plans, seeded by migration 0002 and re-creatable (the migration's data is the one source)."""

import importlib

from marketplace.subscriptions.models import Plan


def plans_seed_defaults() -> int:
    """Create any default plan (free, pro, studio) that is missing; existing plans are left as staff edited them.
    Returns how many were created. Used after a database flush (transactional tests) and by operators."""
    seed = importlib.import_module("marketplace.subscriptions.migrations.0002_seed_plans")
    ceilings = importlib.import_module("marketplace.subscriptions.migrations.0004_plan_training_ceiling").CEILINGS
    created = 0
    for fields in seed.PLANS:
        minutes, work = ceilings[fields["code"]]
        _, made = Plan.objects.get_or_create(
            code=fields["code"],
            defaults={
                **fields,
                "currency": "USD",
                "period": "month",
                "max_training_minutes": minutes,
                "max_training_work": work,
            },
        )
        created += made
    return created
