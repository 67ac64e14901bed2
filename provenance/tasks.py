"""Chain-queue tasks. Each is a pass over database state, idempotent and safe to run concurrently, registered
as periodic in ProvenanceConfig.ready(); the batcher is also enqueued when PROVENANCE_BATCH_MAX records wait,
and the sender when a batch commits. A node that is down just ends the pass (the next one resumes); a node
serving the wrong chain, or a missing signing key, fails the task with the reason."""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.tasks import task

from provenance.chain.connection import scrub
from provenance.chain.errors import ChainIdMismatch, SignerNotConfigured
from provenance.connection import Chain, chain_connect, is_chain_down

logger = logging.getLogger("atelier.provenance")


def _with_chain(name: str, step: Callable[[Chain], dict[str, Any]]) -> dict[str, Any]:
    try:
        chain = chain_connect()
    except (ChainIdMismatch, SignerNotConfigured) as exc:
        logger.error("provenance %s refused: %s", name, exc)
        raise
    except Exception as exc:
        if not is_chain_down(exc):
            raise
        logger.warning("provenance %s: chain unavailable: %s", name, exc)
        return {"status": "chain unavailable", "detail": scrub(str(exc), settings.CHAIN_RPC_URL)[:500]}
    try:
        return {"status": "ok", **step(chain)}
    except Exception as exc:
        if not is_chain_down(exc):
            raise
        logger.warning("provenance %s stopped: chain unavailable: %s", name, exc)
        return {"status": "chain unavailable", "detail": scrub(str(exc), settings.CHAIN_RPC_URL)[:500]}


@task(queue_name="chain")
def provenance_batch() -> dict[str, Any]:
    from provenance.services import batches_build

    batches = batches_build()
    return {"batches": len(batches), "records": sum(batch.leaf_count for batch in batches)}


@task(queue_name="chain")
def provenance_send() -> dict[str, Any]:
    from provenance.services import transactions_send

    return _with_chain("sender", lambda chain: transactions_send(chain=chain))


@task(queue_name="chain")
def provenance_confirm() -> dict[str, Any]:
    from provenance.services import transactions_confirm

    return _with_chain("confirmer", lambda chain: transactions_confirm(chain=chain))


@task(queue_name="chain")
def provenance_reconcile() -> dict[str, Any]:
    from provenance.services import chain_reconcile

    return _with_chain("reconciler", lambda chain: chain_reconcile(chain=chain))
