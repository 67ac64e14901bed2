"""Deploy the ProvenanceRegistry once per chain and remember its address (idempotent). When the remembered
address has no code (a dev chain restarted without its state) it deploys again, says so, and queues the
records anchored on the old chain for anchoring again."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from provenance.chain.errors import ChainError
from provenance.connection import chain_connect
from provenance.services import deployment_ensure


class Command(BaseCommand):
    help = "Deploy the ProvenanceRegistry on CHAIN_RPC_URL (once per chain) and remember its address."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--timeout", type=float, default=None, help="seconds to wait for the deployment")

    def handle(self, *args: Any, timeout: float | None, **options: Any) -> None:
        try:
            chain = chain_connect()
            outcome = deployment_ensure(chain=chain, timeout=timeout)
        except ChainError as exc:  # wrong chain id, node down, no signing key, a reverted deployment
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"chain node at {settings.CHAIN_RPC_URL} is unavailable: {exc}") from exc
        style = self.style.WARNING if outcome.action == "redeployed" else self.style.SUCCESS
        self.stdout.write(style(outcome.message))
