"""The one input rule every request passes: text that PostgreSQL cannot store (NUL, and the lone
UTF-16 surrogates a JSON `\\ud800` escape decodes to) is refused with a 422 naming the field,
before any handler or SQL sees it."""

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

# A raw body can only carry such text as a JSON escape (a literal control character is invalid
# JSON). Matching the escape is cheap; a hit is confirmed by decoding (`\\u0000` is harmless text).
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REASON = "must not contain NUL characters or unpaired UTF-16 surrogates"


def unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def bad_fields(location: str, values: Mapping[str, str] | list[tuple[str, str]]) -> list[str]:
    """Names (as `location.name`) of the parameters whose name or value cannot be stored."""
    items = values.items() if isinstance(values, Mapping) else values
    return [f"{location}.{name}" for name, value in items if unstorable(name) or unstorable(value)]


def _walk(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if unstorable(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if unstorable(str(key)):
                yield child
            yield from _walk(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}.{index}" if path else str(index))


def bad_body_fields(body: bytes, content_type: str) -> list[str]:
    """Fields of a JSON or form body that cannot be stored; [] for anything else."""
    if "json" in content_type:
        if _SUSPECT_ESCAPE.search(body) is None:
            return []
        try:
            decoded = json.loads(body)
        except ValueError:
            return []  # not JSON: the route's own parsing answers invalid_json
        return list(_walk(decoded, ""))
    if "x-www-form-urlencoded" in content_type:
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        return [f"body.{n}" for n, v in pairs if unstorable(n) or unstorable(v)]
    return []
