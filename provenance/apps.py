from django.apps import AppConfig


class ProvenanceConfig(AppConfig):
    name = "provenance"
    verbose_name = "Provenance"

    def ready(self) -> None:
        from core.health import register_health_check
        from provenance.health import chain_health

        register_health_check("chain", chain_health)
