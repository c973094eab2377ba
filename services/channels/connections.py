"""A store's connections to ad networks and social shops (`PUT /v1/channels/{network}`).

Each network's ids are kept in clear; its credentials are encrypted at rest (AES-GCM under
SHOPSTAR_CHANNEL_SECRET_KEY, bound to the store and the network, so a ciphertext copied onto
another row does not decrypt), never returned in full and never logged. A connection is checked
when saved with the network's "who am I" call: a refused credential is a 422 naming it and
nothing is saved; a network that cannot be asked leaves the connection saved as `unchecked`, so
a network outage never loses what staff entered. The connectors record their last error here."""

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.ad_networks import (
    Account,
    CredentialRejected,
    NetworkUnavailable,
    check_google_ads,
    check_merchant_center,
    check_meta,
    check_tiktok_shop,
)
from models import ChannelConnection
from services.errors import NotFound, invalid_field
from services.growth.webhook_secrets import decrypt_secret, encrypt_secret
from services.growth.webhooks import check_resolves_to_public
from services.urls import check_webhook_url

if TYPE_CHECKING:
    from config import Settings

CHECK_SECONDS = 10.0
MAX_ERROR_LENGTH = 500


class Network(StrEnum):
    GOOGLE_ADS = "google_ads"
    META = "meta"
    MERCHANT_CENTER = "merchant_center"
    TIKTOK_SHOP = "tiktok_shop"


class ConnectionState(StrEnum):
    CONNECTED = "connected"  # the network answered the last check or call
    UNCHECKED = "unchecked"  # saved while the network could not be asked
    ERROR = "error"  # a connector's last call failed: `last_error` says why
    NOT_CONNECTED = "not_connected"


Checker = Callable[
    [httpx.AsyncClient, Mapping[str, str], Mapping[str, str], str | None], Awaitable[Account]
]
CHECKS: dict[Network, Checker] = {
    Network.GOOGLE_ADS: check_google_ads,
    Network.META: check_meta,
    Network.MERCHANT_CENTER: check_merchant_center,
    Network.TIKTOK_SHOP: check_tiktok_shop,
}
# Which fields of each network are credentials (encrypted, masked); the rest are ids.
SECRET_FIELDS: dict[Network, tuple[str, ...]] = {
    Network.GOOGLE_ADS: ("developer_token", "refresh_token", "client_id", "client_secret"),
    Network.META: ("access_token",),
    Network.MERCHANT_CENTER: ("refresh_token", "client_id", "client_secret"),
    Network.TIKTOK_SHOP: ("app_secret", "access_token"),
}


@dataclass(frozen=True)
class Credentials:
    """What a connector needs to call the network (decrypted; never log it)."""

    network: Network
    ids: dict[str, str]
    secrets: dict[str, str]
    base_url: str | None


@dataclass(frozen=True)
class ChannelKeys:
    """The deployment's side of the connections: the encryption key, whether local URLs are
    allowed (not in production), and a base URL every network is sent to (tests: nothing
    reaches the internet)."""

    secret_key: str
    local_allowed: bool
    base_url_override: str | None = None

    @classmethod
    def from_settings(cls, settings: "Settings") -> "ChannelKeys":
        return cls(
            secret_key=settings.channel_secret_key,
            local_allowed=settings.environment != "production",
            base_url_override=settings.channel_base_url_override,
        )


def masked(value: str) -> str:
    """Enough for staff to tell two credentials apart, not enough to use one."""
    return f"••••{value[-4:]}" if len(value) >= 12 else "••••"


def _binding(store_id: str, network: Network) -> str:
    return f"channel:{store_id}:{network}"


async def save_connection(
    session: AsyncSession,
    store_id: str,
    network: Network,
    fields: Mapping[str, str],
    api_base_url: str | None,
    keys: ChannelKeys,
    http: httpx.AsyncClient | None = None,
) -> ChannelConnection:
    if api_base_url is not None:
        try:
            check_webhook_url(api_base_url, local_allowed=keys.local_allowed)
        except ValueError as exc:
            raise invalid_field("api_base_url", str(exc)) from exc
        if not keys.local_allowed:
            await check_resolves_to_public(api_base_url, "api_base_url")
    secret_names = SECRET_FIELDS[network]
    ids = {k: v for k, v in fields.items() if k not in secret_names}
    secrets = {k: v for k, v in fields.items() if k in secret_names}
    state, account, error = await _check(
        network, ids, secrets, keys.base_url_override or api_base_url, http
    )
    now = datetime.now(UTC)
    row = await session.get(ChannelConnection, (store_id, network), with_for_update=True)
    if row is None:
        row = ChannelConnection(store_id=store_id, network=str(network), created_at=now)
        session.add(row)
    row.ids = ids
    row.secrets_encrypted = encrypt_secret(
        keys.secret_key, _binding(store_id, network), json.dumps(secrets)
    )
    row.masked = {k: masked(v) for k, v in secrets.items()}
    row.api_base_url = api_base_url
    row.state = str(state)
    row.account_name = account
    row.last_error = error
    row.checked_at = now
    row.updated_at = now
    await session.flush()
    return row


async def _check(
    network: Network,
    ids: Mapping[str, str],
    secrets: Mapping[str, str],
    base_url: str | None,
    http: httpx.AsyncClient | None,
) -> tuple[ConnectionState, str | None, str | None]:
    async def run(client: httpx.AsyncClient) -> Account:
        return await CHECKS[network](client, ids, secrets, base_url)

    try:
        if http is not None:
            account = await run(http)
        else:
            async with httpx.AsyncClient(timeout=CHECK_SECONDS, follow_redirects=False) as client:
                account = await run(client)
    except CredentialRejected as exc:
        raise invalid_field(exc.field, exc.reason) from exc
    except NetworkUnavailable as exc:
        return ConnectionState.UNCHECKED, None, f"not checked: {exc}"[:MAX_ERROR_LENGTH]
    return ConnectionState.CONNECTED, account.name[:200], None


async def list_connections(session: AsyncSession, store_id: str) -> list[ChannelConnection]:
    rows = await session.scalars(
        select(ChannelConnection)
        .where(ChannelConnection.store_id == store_id)
        .order_by(ChannelConnection.network)
    )
    return list(rows)


async def delete_connection(session: AsyncSession, store_id: str, network: Network) -> None:
    deleted = await session.execute(
        delete(ChannelConnection)
        .where(ChannelConnection.store_id == store_id, ChannelConnection.network == str(network))
        .returning(ChannelConnection.network)
    )
    if deleted.first() is None:
        raise NotFound(f"the store has no {network} connection")


async def credentials(
    session: AsyncSession, store_id: str, network: Network, keys: ChannelKeys
) -> Credentials | None:
    """A connector's credentials, decrypted; None when the store is not connected."""
    row = await session.get(ChannelConnection, (store_id, str(network)))
    if row is None:
        return None
    stored = decrypt_secret(keys.secret_key, _binding(store_id, network), row.secrets_encrypted)
    secrets: dict[str, Any] = json.loads(stored)
    return Credentials(
        network,
        dict(row.ids),
        {k: str(v) for k, v in secrets.items()},
        keys.base_url_override or row.api_base_url,
    )


async def record_outcome(
    session: AsyncSession, store_id: str, network: Network, error: str | None
) -> None:
    """A connector's last call: connected again, or the error staff see in `GET /v1/channels`
    (our words, never a credential)."""
    row = await session.get(ChannelConnection, (store_id, str(network)), with_for_update=True)
    if row is None:
        return
    row.state = str(ConnectionState.ERROR if error else ConnectionState.CONNECTED)
    row.last_error = error[:MAX_ERROR_LENGTH] if error else None
    row.checked_at = datetime.now(UTC)
