"""Logs: JSON for the files, plain lines for a person (the `make dev` terminal)."""

import json
import logging

from services.logging import JsonFormatter, readable


def uvicorn_record() -> logging.LogRecord:
    """What uvicorn logs at start: its message, and the same again with terminal colours."""
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, "Started server process [%d]", (42,), None
    )
    record.color_message = "Started server process [\x1b[36m%d\x1b[0m]"
    return record


def test_a_json_log_line_carries_no_terminal_escape_codes() -> None:
    line = JsonFormatter().format(uvicorn_record())

    assert "\\u001b" not in line  # how JSON writes the escape character
    assert json.loads(line) == {
        "ts": json.loads(line)["ts"],
        "level": "info",
        "logger": "uvicorn.error",
        "msg": "Started server process [42]",
    }


def test_the_dev_terminal_shows_a_log_line_as_text() -> None:
    line = JsonFormatter().format(uvicorn_record())
    worker = json.dumps({"ts": "t", "level": "warning", "logger": "shopstar.relay", "msg": "lost"})

    assert readable(line) == "INFO    uvicorn.error: Started server process [42]"
    assert readable(worker[:-1] + ', "error": "gone"}') == (
        "WARNING shopstar.relay: lost  error=gone"
    )
    assert readable("not json [1]") == "not json [1]"
