"""One place for the engine's settings: environment variables prefixed SHOPSTAR_ (and DATABASE_URL,
TEMPORAL_ADDRESS, which deployments commonly set unprefixed)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "dev-operator-token", "secret"}
DEV_OPERATOR_TOKEN = "dev-operator-token"


class Settings(BaseSettings):
    """Settings of the api, the worker and the CLI."""

    model_config = SettingsConfigDict(env_prefix="SHOPSTAR_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SHOPSTAR_DATABASE_URL", "DATABASE_URL")
    )
    temporal_address: str | None = Field(
        default=None, validation_alias=AliasChoices("SHOPSTAR_TEMPORAL_ADDRESS", "TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = "default"
    task_queue: str = "shopstar-marketing"
    operator_token: str = DEV_OPERATOR_TOKEN
    data_dir: Path = Path(".data")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    storefront_base_url: str = "https://shop.example.com"
    message_provider: Literal["log"] = "log"
    relay_batch_size: int = 500
    relay_concurrency: int = 64
    relay_poll_seconds: float = 1.0
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        """Accept the usual postgres:// forms and use the psycopg 3 driver for them."""
        if value is None:
            return None
        for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        if not value.startswith("postgresql+psycopg://"):
            raise ValueError("DATABASE_URL must be a postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> "Settings":
        if self.environment == "production" and self.operator_token in PLACEHOLDER_SECRETS:
            raise ValueError("SHOPSTAR_OPERATOR_TOKEN must be set to a real secret in production")
        return self

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError("DATABASE_URL is not set (make dev sets it for the local stack)")
        return self.database_url

    def require_temporal_address(self) -> str:
        return self.temporal_address or "127.0.0.1:7233"


@lru_cache
def get_settings() -> Settings:
    return Settings()
