"""A store's own settings: who its messages come from, where its links point, its UTM source,
attribution window and default quiet hours. Only what staff set is stored (`stores.settings`);
the process settings (`SHOPSTAR_SENDGRID_FROM_EMAIL`, ...) fill in the rest, so a deployment's
defaults still reach a store that never set its own. Sends read them at send time."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import QuietHours
from models import Store, StoreSettingsChange
from services.errors import NotFound, invalid_field
from services.events.types import TimeZone
from services.ids import new_id
from services.pagination import fetch_page

if TYPE_CHECKING:
    from config import Settings

DEFAULT_ATTRIBUTION_DAYS = 5  # Klaviyo's default after an email click or open
DEFAULT_UTM_SOURCE = "shopstar"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_MESSAGING_SERVICE = re.compile(r"^MG[0-9a-f]{32}$")
# Deliberately loose (the provider has the last word): one @, no spaces, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+(/[^\s?#]*)?$|^https?://localhost(:\d+)?(/\S*)?$")


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("must be an email address such as shop@example.com")
    return value


def _phone(value: str) -> str:
    if not _E164.match(value):
        raise ValueError("must be an E.164 number such as +14155550123")
    return value


def _sms_sender(value: str) -> str:
    if not (_E164.match(value) or _MESSAGING_SERVICE.match(value)):
        raise ValueError(
            "must be an E.164 number such as +14155550123 or a Twilio messaging service SID "
            "(MG followed by 32 hex digits)"
        )
    return value


def _url(value: str) -> str:
    if len(value) > 500 or not _URL.match(value):
        raise ValueError("must be an http(s) URL such as https://shop.example.com")
    return value.rstrip("/")


Email = Annotated[str, AfterValidator(_email)]
Phone = Annotated[str, AfterValidator(_phone)]
SmsSender = Annotated[str, AfterValidator(_sms_sender)]
Url = Annotated[str, AfterValidator(_url)]


class EmailFrom(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: Email
    name: str | None = Field(default=None, min_length=1, max_length=100)


class SettingsPatch(BaseModel):
    """The body of `PATCH /v1/settings`: the fields given change; `null` returns a field to
    the deployment's default (the time zone cannot be cleared)."""

    model_config = ConfigDict(extra="forbid")

    storefront_base_url: Url | None = None
    email_from: EmailFrom | None = None
    reply_to: Email | None = None
    sms_from: SmsSender | None = None
    whatsapp_from: Phone | None = None
    timezone: TimeZone | None = None
    attribution_window_days: int | None = Field(default=None, strict=True, ge=1, le=90)
    utm_source: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.\-]{1,100}$")
    quiet_hours: QuietHours | None = None


class EmailFromOut(BaseModel):
    address: str | None
    name: str | None = None


class StoreSettings(BaseModel):
    """What a store's messages use now: its own settings, else the deployment's defaults
    (named in `defaults`)."""

    storefront_base_url: str
    email_from: EmailFromOut
    reply_to: str | None
    sms_from: str | None
    whatsapp_from: str | None
    timezone: str
    attribution_window_days: int
    utm_source: str
    quiet_hours: QuietHours | None
    defaults: list[str] = Field(description="Fields that come from the deployment's defaults")

    def sender_for(self, channel: str) -> str | None:
        return {
            "email": self.email_from.address,
            "sms": self.sms_from,
            "whatsapp": self.whatsapp_from,
        }.get(channel)


@dataclass(frozen=True)
class StoreDefaults:
    """The process settings a store without its own falls back to."""

    storefront_base_url: str = "https://shop.example.com"
    email_from: str | None = None
    sms_from: str | None = None
    whatsapp_from: str | None = None

    @classmethod
    def from_settings(cls, settings: "Settings") -> "StoreDefaults":
        return cls(
            storefront_base_url=settings.storefront_base_url.rstrip("/"),
            email_from=settings.sendgrid_from_email,
            sms_from=settings.twilio_from_number,
            whatsapp_from=settings.twilio_whatsapp_from,
        )


def as_defaults(defaults: StoreDefaults | str) -> StoreDefaults:
    """A bare string is the storefront URL alone (the form callers used before settings)."""
    return StoreDefaults(storefront_base_url=defaults) if isinstance(defaults, str) else defaults


class StoreConfig(Protocol):
    """What the settings are read from: a `Store` row, or the plain row a flow step reads."""

    @property
    def settings(self) -> dict[str, Any] | None: ...

    @property
    def timezone(self) -> str: ...


def effective_settings(store: StoreConfig | None, defaults: StoreDefaults) -> StoreSettings:
    own: dict[str, Any] = dict(store.settings or {}) if store is not None else {}
    fallback: dict[str, Any] = {
        "storefront_base_url": defaults.storefront_base_url,
        "email_from": {"address": defaults.email_from, "name": None},
        "reply_to": None,
        "sms_from": defaults.sms_from,
        "whatsapp_from": defaults.whatsapp_from,
        "attribution_window_days": DEFAULT_ATTRIBUTION_DAYS,
        "utm_source": DEFAULT_UTM_SOURCE,
        "quiet_hours": None,
    }
    return StoreSettings(
        **{**fallback, **own},
        timezone=store.timezone if store is not None else "UTC",
        defaults=sorted(set(fallback) - set(own)),
    )


def store_quiet_hours(store: StoreConfig | None) -> QuietHours | None:
    """The store's default quiet hours, for flows that set none of their own."""
    value = (store.settings or {}).get("quiet_hours") if store is not None else None
    return QuietHours.model_validate(value) if value else None


def attribution_window_days(settings: dict[str, Any] | None) -> int:
    return int((settings or {}).get("attribution_window_days") or DEFAULT_ATTRIBUTION_DAYS)


async def read_settings(
    session: AsyncSession, store_id: str, defaults: StoreDefaults
) -> StoreSettings:
    store = await session.get(Store, store_id)
    if store is None:
        raise NotFound("store not found")
    return effective_settings(store, defaults)


async def patch_settings(
    session: AsyncSession,
    store_id: str,
    key_id: str | None,
    patch: SettingsPatch,
    defaults: StoreDefaults,
) -> StoreSettings:
    """Apply the fields given and record what changed (from, to) with the key that did it."""
    given = patch.model_fields_set
    if "timezone" in given and patch.timezone is None:
        raise invalid_field("timezone", "cannot be cleared; give an IANA time zone")
    # Row lock: two PATCHes at once each see the other's result as their "from".
    store = await session.scalar(select(Store).where(Store.id == store_id).with_for_update())
    if store is None:
        raise NotFound("store not found")
    before = effective_settings(store, defaults).model_dump(mode="json")
    own = dict(store.settings or {})
    values = patch.model_dump(mode="json", include=given)
    for name, value in values.items():
        if name == "timezone":
            store.timezone = value
        elif value is None:
            own.pop(name, None)
        else:
            own[name] = value
    store.settings = own  # a new dict: SQLAlchemy does not see a JSONB changed in place
    after = effective_settings(store, defaults)
    shown = after.model_dump(mode="json")
    changes = {
        name: {"from": before[name], "to": shown[name]}
        for name in sorted(given)
        if before[name] != shown[name]
    }
    if changes:
        session.add(
            StoreSettingsChange(id=new_id("stc"), store_id=store_id, key_id=key_id, changes=changes)
        )
    await session.flush()
    return after


async def settings_history(
    session: AsyncSession, store_id: str, *, limit: int, cursor: str | None
) -> tuple[Sequence[StoreSettingsChange], str | None]:
    query = select(StoreSettingsChange).where(StoreSettingsChange.store_id == store_id)
    return await fetch_page(session, query, StoreSettingsChange, limit, cursor)
