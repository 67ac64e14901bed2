"""Helpers for the provenance tests (fixtures live in conftest.py): a raw JSON-RPC call and synthetic images."""

import requests

from bench.synthetic_images import encode_png, synthetic_image


def rpc(url: str, method: str, params: list | None = None):
    body = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}, timeout=10
    ).json()
    if "error" in body:
        raise RuntimeError(body["error"])
    return body["result"]


def image_bytes(seed: int) -> bytes:
    return encode_png(synthetic_image(seed))
