"""Logging filters and the JSON formatter (`LOG_FORMAT=json`)."""

import json
import logging
from datetime import UTC, datetime

from core.request_id import current_request_id


class RequestIdFilter(logging.Filter):
    """Stamps every record with the request id in context ("" outside requests and their tasks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and the exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class QuietPeriodicTasks(logging.Filter):
    """The worker runs a dozen periodic tasks every few seconds; their routine RUNNING/SUCCESSFUL lines would
    drown everything else in `make run`'s output. Warnings, failures and all other tasks still pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        from core.scheduler import registered_periodic_tasks

        message = record.getMessage()
        return not any(f"path={spec.task_path} " in message for spec in registered_periodic_tasks().values())
