"""Checks a serving process runs once as it starts (the web server's workers, each task worker).

Apps register them from their AppConfig (as with health checks), so core never imports an app; a check that
fails is logged and never stops the process: /healthz reports the same things with their status.
"""

import logging
from collections.abc import Callable

logger = logging.getLogger("atelier.startup")

_checks: dict[str, Callable[[], object]] = {}


def register_startup_check(name: str, check: Callable[[], object]) -> None:
    _checks[name] = check


def run_startup_checks() -> None:
    for name, check in _checks.items():
        try:
            check()
        except Exception:
            logger.exception("start-up check %s failed", name)
