"""Alembic upgrades run from code: `shopstar-marketing migrate`, `make dev` and the tests."""

from pathlib import Path

from alembic import command
from alembic.config import Config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # The ini file goes through configparser, which reads "%" as interpolation.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str) -> None:
    """Bring the database at `url` to the newest revision. Synchronous on purpose: the migration
    environment runs its own event loop, so call this from a thread when one is running."""
    command.upgrade(alembic_config(url), "head")
