"""Settings for the test suite: the real settings, with fast password hashing and a test-only job app."""

import os

os.environ.setdefault("ATELIER_ENV", "test")

from config.settings import *  # noqa: E402,F403
from config.settings import INSTALLED_APPS, REST_FRAMEWORK  # noqa: E402

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
    },
}
