"""Health: the configured chain answers, with the expected chain id, and its latest block.

/healthz is public, so the report never names the RPC endpoint (hosted RPC URLs carry API keys) nor echoes a
transport error (which quotes the URL); the detail goes to the log. Probes are cached for
CHAIN_HEALTH_CACHE_SECONDS so that anonymous polling cannot turn into RPC calls (or a provider's bill).
"""

import hashlib
import logging
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("atelier.provenance.health")


def _rpc(session: requests.Session, method: str) -> Any:
    response = session.post(
        settings.CHAIN_RPC_URL,
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": []},
        timeout=settings.CHAIN_HEALTH_TIMEOUT,
    )
    response.raise_for_status()
    body = response.json()
    if "error" in body:
        raise RuntimeError(body["error"].get("message", "rpc error"))
    return body["result"]


def _cache_key() -> str:
    endpoint = hashlib.sha256(f"{settings.CHAIN_RPC_URL}|{settings.CHAIN_ID}".encode()).hexdigest()[:16]
    return f"provenance:chain-health:{endpoint}"


def chain_health() -> dict[str, Any]:
    key = _cache_key()
    report = cache.get(key)
    if report is None:
        report = _probe()
        cache.set(key, report, timeout=settings.CHAIN_HEALTH_CACHE_SECONDS)
    return report


def _probe() -> dict[str, Any]:
    report: dict[str, Any] = {"expected_chain_id": settings.CHAIN_ID}
    try:
        with requests.Session() as session:
            chain_id = int(_rpc(session, "eth_chainId"), 16)
            block = int(_rpc(session, "eth_blockNumber"), 16)
    except Exception as exc:
        logger.warning("chain health probe failed: %s: %s", type(exc).__name__, exc)
        return report | {"status": "down", "error": "chain unavailable"}
    report |= {"chain_id": chain_id, "latest_block": block}
    if chain_id != settings.CHAIN_ID:
        return report | {"status": "down", "error": f"chain id {chain_id} != expected {settings.CHAIN_ID}"}
    return report | {"status": "ok"}
