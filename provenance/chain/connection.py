"""The one way to get a Web3 connection: it checks the chain id before anything is signed for it."""

from urllib.parse import urlsplit

import requests
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3Exception
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from provenance.chain.errors import ChainIdMismatch, ChainUnavailable

DEFAULT_TIMEOUT_S = 10.0


def endpoint_label(rpc_url: str) -> str:
    """scheme://host[:port] of an RPC URL: hosted endpoints carry the API key in the path, query or userinfo."""
    parts = urlsplit(rpc_url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def scrub(text: str, rpc_url: str) -> str:
    """`text` with the RPC URL's secret-bearing parts (path, query, userinfo) replaced by its label."""
    parts = urlsplit(rpc_url)
    label = endpoint_label(rpc_url)
    text = text.replace(rpc_url.rstrip("/"), label)
    for secret in (parts.path.rstrip("/"), parts.query, parts.username, parts.password):
        if secret and len(secret) > 1:
            text = text.replace(secret, "/…")
    return text


def connect(
    *,
    rpc_url: str,
    expected_chain_id: int,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = 2,
) -> Web3:
    """Connect over HTTP(S); raise ChainUnavailable if the node does not answer, ChainIdMismatch if it
    serves another chain (a key must never sign for a chain it was not configured for)."""
    provider = HTTPProvider(
        rpc_url,
        request_kwargs={"timeout": timeout},
        exception_retry_configuration=ExceptionRetryConfiguration(
            errors=(requests.ConnectionError, requests.HTTPError, requests.Timeout),
            retries=max(retries, 1),  # web3 makes no request at all with 0 retries
            backoff_factor=0.1,
        ),
    )
    w3 = Web3(provider)
    try:
        chain_id = w3.eth.chain_id
    except (requests.RequestException, OSError, Web3Exception) as exc:
        raise ChainUnavailable(f"chain node at {endpoint_label(rpc_url)} is unavailable: {type(exc).__name__}") from exc
    if chain_id != expected_chain_id:
        raise ChainIdMismatch(
            f"connected to chain {chain_id} at {endpoint_label(rpc_url)}, expected {expected_chain_id}"
        )
    return w3
