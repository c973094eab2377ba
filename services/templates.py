"""Message templates: Jinja2 in a sandbox, so staff-written templates cannot reach the server."""

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from services.errors import InvalidInput


def _blank_none(value: Any) -> Any:
    return "" if value is None else value


# A missing variable is an error (a typo should not send "Hi ,"), a known but empty one renders
# as nothing rather than "None".
_env = ImmutableSandboxedEnvironment(
    autoescape=False, undefined=StrictUndefined, finalize=_blank_none
)


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Template:
    """A flow's templates are sent thousands of times: compile each text once."""
    return _env.from_string(source)


def render(source: str, context: dict[str, Any]) -> str:
    try:
        return _compiled(source).render(context)
    except TemplateError as exc:
        raise InvalidInput(f"template cannot be rendered: {exc}") from exc


def check_template(source: str) -> None:
    """Reject a template that does not parse, when staff save it rather than at send time."""
    try:
        _env.parse(source)
    except TemplateError as exc:
        raise InvalidInput(f"template does not parse: {exc}") from exc
