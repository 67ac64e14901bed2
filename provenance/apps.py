from datetime import timedelta

from django.apps import AppConfig
from django.core import checks


class ProvenanceConfig(AppConfig):
    name = "provenance"
    verbose_name = "Provenance"

    def ready(self) -> None:
        from core.health import register_health_check
        from core.scheduler import register_periodic
        from provenance import conf
        from provenance.health import chain_health

        register_health_check("chain", chain_health)
        from core.metrics import register_metrics_collector
        from provenance.metrics import collect as provenance_metrics

        register_metrics_collector("provenance", provenance_metrics)
        checks.register(signing_key_check)
        for name, setting in (
            ("batch", "PROVENANCE_BATCH_INTERVAL_SECONDS"),
            ("send", "PROVENANCE_SEND_INTERVAL_SECONDS"),
            ("confirm", "PROVENANCE_CONFIRM_INTERVAL_SECONDS"),
            ("reconcile", "PROVENANCE_RECONCILE_INTERVAL_SECONDS"),
        ):
            register_periodic(
                name=f"provenance.{name}",
                task_path=f"provenance.tasks.provenance_{name}",
                every=timedelta(seconds=conf.get(setting)),
            )


def signing_key_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Refuse to start with no usable signing key (the anvil key is public: anvil's chain id only)."""
    from provenance.chain.errors import SignerNotConfigured
    from provenance.connection import signing_account

    try:
        signing_account()
    except SignerNotConfigured as exc:
        return [
            checks.Error(
                str(exc),
                hint="Set CHAIN_PRIVATE_KEY to the key of a funded account on this chain, "
                "or CHAIN_ID=31337 for a local anvil node.",
                id="provenance.E001",
            )
        ]
    return []
