"""Settings for `python -m bench.web` only: bench.api's settings (DEBUG off, throttles off, the bench URLs)
pointed at their own throwaway database under var/bench/web/, with the public verify throttle lifted (one
client address makes thousands of requests) and the chain pointed at a closed port (checks answer
"unavailable" at once, for the page and the API alike)."""

import os
from pathlib import Path

WEB_DIR = Path(os.environ.get("ATELIER_VAR_DIR", Path(__file__).resolve().parent.parent / "var")) / "bench" / "web"
WEB_DIR.mkdir(parents=True, exist_ok=True)
os.environ["BENCH_DATABASE_URL"] = os.environ.get("BENCH_WEB_DATABASE_URL") or f"sqlite:///{WEB_DIR / 'db.sqlite3'}"

from bench.api_settings import *  # noqa: E402,F403
from bench.api_settings import REST_FRAMEWORK  # noqa: E402

MEDIA_ROOT = WEB_DIR / "media"
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "verify": "10000000/min",
        "anon": "10000000/min",
    },
}
CHAIN_RPC_URL = os.environ.get("BENCH_WEB_CHAIN_RPC_URL", "http://127.0.0.1:9")
