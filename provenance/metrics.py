"""Provenance's metrics: records by state and the oldest still unconfirmed, chain transactions by state, gas,
and the chain head (reachable or not, its height and how old its latest block is), probed at most every
`CHAIN_CACHE_SECONDS`."""

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import requests
from django.conf import settings
from django.db.models import Count, Min, Sum
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from provenance.health import _rpc
from provenance.models import AnchorBatch, AnchorState, ChainTransaction, ProvenanceRecord, RecordState, TxState
from provenance.services.gas_budget import gas_budget_status

logger = logging.getLogger("atelier.provenance.metrics")
CHAIN_CACHE_SECONDS = 10.0
_head_lock = threading.Lock()
_head: dict[str, Any] = {"at": -1e9}


def _chain_head() -> dict[str, Any]:
    """{"up": bool, "block": int, "timestamp": int}, cached briefly: a scrape must not hammer the RPC."""
    with _head_lock:
        if time.monotonic() - _head["at"] < CHAIN_CACHE_SECONDS:
            return dict(_head)
        result: dict[str, Any] = {"up": False, "block": 0, "timestamp": 0}
        try:
            with requests.Session() as session:
                response = session.post(
                    settings.CHAIN_RPC_URL,
                    timeout=settings.CHAIN_HEALTH_TIMEOUT,
                    json={"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": ["latest", False]},
                )
                block = response.json()["result"]
                chain_id = int(_rpc(session, "eth_chainId"), 16)
            result = {
                "up": chain_id == settings.CHAIN_ID,
                "block": int(block["number"], 16),
                "timestamp": int(block["timestamp"], 16),
            }
        except Exception:  # down is a value here, not an error
            logger.debug("chain head probe failed", exc_info=True)
        _head.update(result, at=time.monotonic())
        return result


def collect() -> Iterable[Metric]:
    now = timezone.now()
    records = GaugeMetricFamily("atelier_provenance_records", "Provenance records by state.", labels=["state"])
    counts = dict(ProvenanceRecord.objects.values_list("state").annotate(n=Count("pk")))
    for state in RecordState.values:
        records.add_metric([state], counts.get(state, 0))
    yield records
    oldest = ProvenanceRecord.objects.exclude(state=RecordState.CONFIRMED).aggregate(at=Min("created_at"))["at"]
    yield GaugeMetricFamily(
        "atelier_provenance_unconfirmed_oldest_age_seconds",
        "Age of the oldest record not yet confirmed on chain (0 when none).",
        value=(now - oldest).total_seconds() if oldest else 0.0,
    )
    waiting = AnchorBatch.objects.filter(state__in=[AnchorState.SENT, AnchorState.ANCHORED]).aggregate(
        at=Min("created_at")
    )["at"]
    yield GaugeMetricFamily(
        "atelier_chain_batch_unconfirmed_oldest_age_seconds",
        "Age of the oldest anchor batch sent but not yet confirmed (0 when none).",
        value=(now - waiting).total_seconds() if waiting else 0.0,
    )

    transactions = GaugeMetricFamily(
        "atelier_chain_transactions", "Chain transactions by kind and state.", labels=["kind", "state"]
    )
    for row in ChainTransaction.objects.values("kind", "state").annotate(n=Count("pk")):
        transactions.add_metric([row["kind"], row["state"]], row["n"])
    yield transactions
    mined = ChainTransaction.objects.filter(state__in=[TxState.MINED, TxState.CONFIRMED, TxState.FAILED])
    yield GaugeMetricFamily(
        "atelier_chain_gas_spent",
        "Gas of every mined transaction, counted at its gas limit (an upper bound).",
        value=mined.aggregate(gas=Sum("gas"))["gas"] or 0,
    )

    budget = gas_budget_status(chain_id=settings.CHAIN_ID, now=now)
    yield GaugeMetricFamily(
        "atelier_chain_gas_budget_wei", "The signer's daily gas budget (0: no cap).", value=budget.budget_wei
    )
    yield GaugeMetricFamily(
        "atelier_chain_gas_budget_spent_wei",
        "Committed in the current budget window (gas limit x max fee of what was signed).",
        value=budget.spent_wei,
    )
    yield GaugeMetricFamily(
        "atelier_chain_gas_breaker_open",
        "1 while the daily gas budget is exhausted and the sender signs nothing new.",
        value=int(budget.open),
    )

    head = _chain_head()
    yield GaugeMetricFamily(
        "atelier_chain_up", "1 when the RPC answers with the expected chain id.", value=int(head["up"])
    )
    yield GaugeMetricFamily("atelier_chain_head_block", "The chain's latest block number.", value=head["block"])
    lag = max(0.0, time.time() - head["timestamp"]) if head["up"] else float("nan")
    yield GaugeMetricFamily("atelier_chain_head_lag_seconds", "Seconds since the chain's latest block.", value=lag)
