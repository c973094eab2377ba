"""Production is the default and fails closed; settings and SQL errors never print a value."""

import os
import secrets
import subprocess
import sys

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from config import Settings
from devstack.migrate import PROJECT_ROOT
from devstack.temporal import binary
from models.database import create_engine

GOOD = {
    "operator_token": secrets.token_hex(32),
    "gift_card_hash_key": secrets.token_hex(32),
    "unsubscribe_secret": secrets.token_hex(32),
    "shopper_token_secret": secrets.token_hex(32),
    "webhook_secret_key": secrets.token_hex(32),
    "channel_secret_key": secrets.token_hex(32),
}


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """A process started as an operator would: no SHOPSTAR_ setting but the ones given."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHOPSTAR_")}
    base.pop("DATABASE_URL", None)
    return subprocess.run(
        argv,
        env=base | env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_production_start_without_secrets_refuses() -> None:
    done = run([binary("shopstar-marketing"), "migrate"], DATABASE_URL="postgresql://db/x")

    assert done.returncode == 2
    output = " ".join((done.stdout + done.stderr).split())
    assert "Invalid settings" in output
    for name in (
        "OPERATOR_TOKEN",
        "GIFT_CARD_HASH_KEY",
        "UNSUBSCRIBE_SECRET",
        "SHOPPER_TOKEN_SECRET",
        "WEBHOOK_SECRET_KEY",
        "CHANNEL_SECRET_KEY",
    ):
        assert f"SHOPSTAR_{name}" in output


@pytest.mark.parametrize("name", sorted(GOOD))
def test_a_short_or_missing_secret_refuses_in_production(name: str) -> None:
    production = {"environment": "production"}
    Settings.model_validate(production | GOOD)  # the complete set starts

    with pytest.raises(ValidationError, match=f"SHOPSTAR_{name.upper()}"):
        Settings.model_validate(production | GOOD | {name: "x" * 31})
    without = {k: v for k, v in GOOD.items() if k != name}
    with pytest.raises(ValidationError, match=f"SHOPSTAR_{name.upper()}"):
        Settings.model_validate(production | without)


TWILIO_TOKEN = secrets.token_hex(16)  # a real one is 32 hex digits
SHORT_TOKEN = "Zq8" + secrets.token_hex(8)  # too short for production, still a secret


@pytest.mark.parametrize(
    ("command", "env", "secret"),
    [
        pytest.param(
            ["migrate"],
            {"SHOPSTAR_OPERATOR_TOKEN": SHORT_TOKEN},
            SHORT_TOKEN,
            id="cli-short-operator-token",
        ),
        pytest.param(
            ["worker"],
            {"SHOPSTAR_SMS_PROVIDER": "twilio", "SHOPSTAR_TWILIO_AUTH_TOKEN": TWILIO_TOKEN},
            TWILIO_TOKEN,
            id="cli-worker-twilio-without-account",
        ),
        pytest.param(
            None,
            {"SHOPSTAR_SMS_PROVIDER": "twilio", "SHOPSTAR_TWILIO_AUTH_TOKEN": TWILIO_TOKEN},
            TWILIO_TOKEN,
            id="uvicorn-app-factory",
        ),
    ],
)
def test_a_settings_error_prints_no_part_of_a_secret(
    command: list[str] | None, env: dict[str, str], secret: str
) -> None:
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app"]
    argv = [binary("shopstar-marketing"), *command] if command else uvicorn
    production = {f"SHOPSTAR_{k.upper()}": v for k, v in GOOD.items()}
    done = run(argv, DATABASE_URL="postgresql://db/x", **(production | env))

    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Invalid settings" in output
    for value in {secret, *GOOD.values()}:  # neither the bad one nor any other
        pieces = {value[i : i + 6] for i in range(len(value) - 5)}
        assert not [piece for piece in pieces if piece in output], output


async def test_a_failed_statement_does_not_log_its_parameters(database_url: str) -> None:
    """(A batch's parameters are every row's: one bad row would log the others' emails.)"""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as failure:
                await conn.execute(
                    text("SELECT CAST(:email AS text), 1 / 0"), {"email": "ada@ex.com"}
                )
    finally:
        await engine.dispose()

    assert "ada@ex.com" not in str(failure.value)
