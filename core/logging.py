"""Logging filters."""

import logging


class QuietPeriodicTasks(logging.Filter):
    """The worker runs a dozen periodic tasks every few seconds; their routine RUNNING/SUCCESSFUL lines would
    drown everything else in `make run`'s output. Warnings, failures and all other tasks still pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        from core.scheduler import registered_periodic_tasks

        message = record.getMessage()
        return not any(f"path={spec.task_path} " in message for spec in registered_periodic_tasks().values())
