"""Settings for `python -m bench.api` only: the project's settings, pointed at a throwaway database under
var/bench/api/ (or BENCH_DATABASE_URL), routed through bench/api_urls.py (the project's URLs plus a bare DRF
endpoint), with DEBUG off and throttles off — the bench client is one address making thousands of requests a
second; with throttles on both endpoints would measure 429s."""

import os
from pathlib import Path

BENCH_DIR = Path(os.environ.get("ATELIER_VAR_DIR", Path(__file__).resolve().parent.parent / "var")) / "bench" / "api"
BENCH_DIR.mkdir(parents=True, exist_ok=True)
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{BENCH_DIR / 'db.sqlite3'}"
os.environ.setdefault("ATELIER_ENV", "development")
os.environ["ATELIER_DEBUG"] = "0"

from config.settings import *  # noqa: E402,F403
from config.settings import REST_FRAMEWORK  # noqa: E402

ROOT_URLCONF = "bench.api_urls"
MEDIA_ROOT = BENCH_DIR / "media"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# bench/api.py runs one server with the browse page cache off (the database path) and one with the default.
if "BENCH_BROWSE_CACHE_SECONDS" in os.environ:
    GALLERY_BROWSE_CACHE_SECONDS = int(os.environ["BENCH_BROWSE_CACHE_SECONDS"])
