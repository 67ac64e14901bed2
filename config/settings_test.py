"""Settings for the test suite: the real settings, with fast password hashing and a test-only job app."""

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("ATELIER_ENV", "test")

from config.settings import *  # noqa: E402,F403
from config.settings import CACHES, DATABASES, INSTALLED_APPS, REST_FRAMEWORK, VAR_DIR  # noqa: E402

# One test database per pytest process, so concurrent runs (several engineers, one machine) never share one.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}

# Under pytest-xdist each worker gets its own Redis database, because tests clear the cache and a Redis cache
# clears by flushing its whole database: worker gwN uses the configured database number + N. (Subprocesses that
# load these settings inherit PYTEST_XDIST_WORKER and so land on their worker's database too.)
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw") and CACHES["default"]["BACKEND"].endswith("RedisCache"):
    _redis = urlsplit(CACHES["default"]["LOCATION"])
    _redis_db = int(_redis.path.strip("/") or 0) + int(_xdist_worker.removeprefix("gw"))
    CACHES["default"]["LOCATION"] = urlunsplit(_redis._replace(path=f"/{_redis_db}"))

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
INSTALLED_APPS = [*INSTALLED_APPS, "tests.jobapp"]
# Throttles stay on (they are tested); generous rates keep unrelated tests from tripping them.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "anon": "10000/min",
        "user": "10000/min",
        "login": "10000/min",
        "register": "10000/min",
        "verify": "10000/min",
        "webhook_send": "10000/min",
    },
}
