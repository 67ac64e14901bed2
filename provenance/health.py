"""Health: the configured chain answers, with the expected chain id, and its latest block."""

from typing import Any

import requests
from django.conf import settings


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


def chain_health() -> dict[str, Any]:
    report: dict[str, Any] = {"rpc_url": settings.CHAIN_RPC_URL, "expected_chain_id": settings.CHAIN_ID}
    try:
        with requests.Session() as session:
            chain_id = int(_rpc(session, "eth_chainId"), 16)
            block = int(_rpc(session, "eth_blockNumber"), 16)
    except Exception as exc:
        return report | {"status": "down", "error": f"{type(exc).__name__}: {str(exc)[:160]}"}
    report |= {"chain_id": chain_id, "latest_block": block}
    if chain_id != settings.CHAIN_ID:
        return report | {"status": "down", "error": f"chain id {chain_id} != expected {settings.CHAIN_ID}"}
    return report | {"status": "ok"}
