"""One place for the engine's settings: environment variables prefixed SHOPSTAR_ (and DATABASE_URL,
TEMPORAL_ADDRESS, which deployments commonly set unprefixed)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "dev-operator-token", "secret"}
DEV_OPERATOR_TOKEN = "dev-operator-token"
DEV_GIFT_CARD_HASH_KEY = "dev-gift-card-hash-key"
DEV_UNSUBSCRIBE_SECRET = "dev-unsubscribe-secret"
DEV_SHOPPER_TOKEN_SECRET = "dev-shopper-token-secret"
DEV_WEBHOOK_SECRET_KEY = "dev-webhook-secret-key"
DEV_CHANNEL_SECRET_KEY = "dev-channel-secret-key"
MIN_SECRET_LENGTH = 32
# The engine's own secrets: production refuses a default, a placeholder or a short one. (The api
# verifies unsubscribe links whatever the email provider, so that secret is always one of them.)
PRODUCTION_SECRETS = (
    "operator_token",
    "gift_card_hash_key",
    "unsubscribe_secret",
    "shopper_token_secret",
    "webhook_secret_key",
    "channel_secret_key",
)


class Settings(BaseSettings):
    """Settings of the api, the worker and the CLI."""

    # hide_input_in_errors: an error must never echo a value, which may be a secret.
    model_config = SettingsConfigDict(
        env_prefix="SHOPSTAR_", extra="ignore", hide_input_in_errors=True
    )

    # Fails closed: `make dev`, the tests and the benchmarks say development/test explicitly.
    environment: Literal["development", "test", "production"] = "production"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SHOPSTAR_DATABASE_URL", "DATABASE_URL")
    )
    temporal_address: str | None = Field(
        default=None, validation_alias=AliasChoices("SHOPSTAR_TEMPORAL_ADDRESS", "TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = "default"
    task_queue: str = "shopstar-marketing"
    operator_token: str = DEV_OPERATOR_TOKEN
    # Gift-card codes are bearer secrets: only their HMAC-SHA256 under this key is stored.
    gift_card_hash_key: str = DEV_GIFT_CARD_HASH_KEY
    data_dir: Path = Path(".data")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    storefront_base_url: str = "https://shop.example.com"
    # Messaging: `log` keeps everything on this machine (make dev); see docs/messaging.md.
    email_provider: Literal["log", "sendgrid"] = "log"
    sms_provider: Literal["log", "twilio"] = "log"
    sendgrid_api_key: str | None = None
    sendgrid_host: str | None = None  # None: the real API
    sendgrid_from_email: str | None = None
    # The event webhook's ECDSA verification key (base64 DER, as SendGrid's console shows it).
    sendgrid_webhook_public_key: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_base_url: str | None = None  # None: the real API
    # How long a provider call may take (connect, then each read). Below the step's 15 s
    # timeout, so the step itself records a call that got no answer as `unknown`.
    provider_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Signs the unsubscribe links of emails, so a link works only for its own message.
    unsubscribe_secret: str = DEV_UNSUBSCRIBE_SECRET
    # Signs shopper tokens (`POST /v1/shopper-tokens`): who the shopper is, for a publishable key.
    shopper_token_secret: str = DEV_SHOPPER_TOKEN_SECRET
    # Encrypts the signing secrets of outbound webhook endpoints at rest (docs/webhooks.md).
    webhook_secret_key: str = DEV_WEBHOOK_SECRET_KEY
    # Encrypts the credentials of ad-network and social-shop connections at rest (docs/channels.md).
    channel_secret_key: str = DEV_CHANNEL_SECRET_KEY
    # Sends every network call to this URL, whatever a connection says (tests and benchmarks:
    # nothing reaches the internet). Never set in production.
    channel_base_url_override: str | None = None
    # Sized by memory: a cached run holds about 120 KiB of the worker (bench.replay_cost), so
    # 10,000 is about 1.2 GiB on top of a 0.3 GiB process, under 1.5 GiB. Runs beyond it wait
    # out of the cache and replay from their history at their next step (docs/benchmarks.md).
    worker_max_cached_workflows: int = Field(default=10_000, ge=0)
    relay_batch_size: int = 500
    relay_concurrency: int = 64
    relay_poll_seconds: float = 1.0
    log_level: str = "INFO"
    # Requests per second across the deployment (0 = off), divided between `api_replicas`: per
    # client IP on publishable and unauthenticated endpoints, per key on secret ones.
    public_rate_limit: float = Field(default=10.0, ge=0)
    key_rate_limit: float = Field(default=100.0, ge=0)
    api_replicas: int = Field(default=1, ge=1)
    # How long a replica trusts an API key it has looked up: a key revoked through another
    # replica is refused within this time (at most a second; 0 = look up every request).
    api_key_cache_seconds: float = Field(default=1.0, ge=0, le=1.0)
    # Bodies over these sizes are refused with 413 before they are read.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_events_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)

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
        if self.environment != "production":
            return self
        dev_defaults = {
            DEV_OPERATOR_TOKEN,
            DEV_GIFT_CARD_HASH_KEY,
            DEV_UNSUBSCRIBE_SECRET,
            DEV_SHOPPER_TOKEN_SECRET,
            DEV_WEBHOOK_SECRET_KEY,
        }
        weak = [
            f"SHOPSTAR_{name.upper()}"
            for name in PRODUCTION_SECRETS
            if getattr(self, name) in PLACEHOLDER_SECRETS | dev_defaults
            or len(getattr(self, name)) < MIN_SECRET_LENGTH
        ]
        if weak:
            raise ValueError(
                f"production needs {', '.join(weak)} set to a random secret of at least "
                f"{MIN_SECRET_LENGTH} characters (e.g. `openssl rand -hex 32`)"
            )
        return self

    @model_validator(mode="after")
    def _provider_credentials(self) -> "Settings":
        """A chosen provider without its credentials fails at startup, not at the first send."""
        needed = {
            "sendgrid": ["sendgrid_api_key", "sendgrid_from_email"],
            "twilio": ["twilio_account_sid", "twilio_auth_token"],
        }
        for provider in {self.email_provider, self.sms_provider} - {"log"}:
            missing = [f"SHOPSTAR_{f.upper()}" for f in needed[provider] if not getattr(self, f)]
            if missing:
                raise ValueError(f"the {provider} provider needs {', '.join(missing)}")
        if self.sms_provider == "twilio" and not (
            self.twilio_from_number or self.twilio_whatsapp_from
        ):
            raise ValueError(
                "the twilio provider needs SHOPSTAR_TWILIO_FROM_NUMBER "
                "and/or SHOPSTAR_TWILIO_WHATSAPP_FROM"
            )
        return self

    @field_validator("sendgrid_webhook_public_key")
    @classmethod
    def _loadable_public_key(cls, value: str | None) -> str | None:
        if value:
            from sendgrid.helpers.eventwebhook import EventWebhook

            try:
                EventWebhook().convert_public_key_to_ecdsa(value)
            except ValueError as exc:
                raise ValueError(
                    "SHOPSTAR_SENDGRID_WEBHOOK_PUBLIC_KEY is not an ECDSA public key"
                ) from exc
        return value

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError("DATABASE_URL is not set (make dev sets it for the local stack)")
        return self.database_url

    def require_temporal_address(self) -> str:
        return self.temporal_address or "127.0.0.1:7233"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def settings_error_text(exc: ValidationError) -> str:
    """The errors of a settings load, one a line: the variable and the message, never the value
    (it may be a secret; pydantic's own text shows part of it)."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        field = ".".join(str(part) for part in error["loc"])
        name = f"SHOPSTAR_{field.upper()}: " if field else ""
        lines.append(f"{name}{error['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def load_settings_or_exit() -> Settings:
    """`get_settings()` for a process entry point: invalid settings end it with the errors only."""
    try:
        return get_settings()
    except ValidationError as exc:
        raise SystemExit(f"Invalid settings:\n{settings_error_text(exc)}") from None
