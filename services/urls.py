"""URLs the engine stores and later hands to storefronts and messages: only absolute http(s)
links. A `javascript:` or `data:` URL served as a product link would run in the shopper's page."""

from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048


def is_web_url(value: str) -> bool:
    """An absolute http:// or https:// URL with a host, no spaces or control characters."""
    if len(value) > MAX_URL_LENGTH or any(ch.isspace() or ord(ch) < 32 for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def check_web_url(value: str) -> str:
    """A pydantic validator: a 422 on the field for anything else."""
    if not is_web_url(value):
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


def web_url_or_none(value: str | None) -> str | None:
    """What may be shown of a stored URL: rows saved before the check came in are hidden."""
    return value if value is not None and is_web_url(value) else None
