"""Conversions of orders for the ad networks (docs/channels.md, "Conversions").

When `order.placed` is projected, each connected network with something to send gets a row:
Google Ads when the order has a `gclid`/`gbraid`/`wbraid`, Meta when it has an `fbclid`/`fbc`/
`fbp` or the customer consented to ads and has contact data. A refund or cancel of an order whose
Google conversion counts gets an adjustment row (the order's value now, or a retraction), once
per change. The relay starts one run per row; each attempt reads the row, builds the network's
payload here (contact data hashed, and only with `consent.ads` true at that moment), sends it
and records the answer. A permanent refusal is recorded with the network's code, not retried."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.conversion_uploads import Answer, Outcome, send_meta, upload_google
from models import ChannelConnection, ChannelConversion, Customer, Order, OrderAttribution
from services.channels.connections import ChannelKeys, Credentials, Network, credentials
from services.channels.connections import record_outcome as record_connection
from services.channels.hashing import hashed_email, meta_hashed_phone, sha256_hex
from services.checkout.pricing.money import to_major
from services.errors import DomainError
from services.events.types import OrderPlaced
from services.growth.webhooks import check_resolves_to_public
from services.ids import new_id

GOOGLE_CLICKS = ("gclid", "gbraid", "wbraid")
META_CLICKS = ("fbclid", "fbc", "fbp")
META_MAX_AGE = timedelta(days=7)  # an older event_time fails the whole request
DUPLICATE = "CLICK_CONVERSION_ALREADY_EXISTS"


class Kind(StrEnum):
    CONVERSION = "conversion"
    ADJUSTMENT = "adjustment"


class Status(StrEnum):
    PENDING = "pending"  # not tried yet
    SENT = "sent"
    REFUSED = "refused"  # permanent: the network's reason is recorded
    RETRYING = "retrying"  # tried; the run tries again with backoff


FINAL = {Status.SENT, Status.REFUSED}


@dataclass(frozen=True)
class ConversionRun:
    """A row the relay starts a run for."""

    row_id: str
    network: str
    order_id: str
    kind: str


def workflow_id(store_id: str, run: ConversionRun) -> str:
    base = f"conversion:{store_id}:{run.network}:{run.order_id}"
    return base if run.kind == Kind.CONVERSION else f"{base}:adjustment:{run.row_id}"


def _clicks(attribution: OrderAttribution | None, order: OrderPlaced) -> dict[str, str]:
    """The order's click ids: its last touch (from the event, or the visitor's visits), and
    `fbp` from the event (Meta's browser cookie is not a touch)."""
    touch = (attribution.last_touch if attribution else None) or {}
    found = {k: str(touch[k]) for k in (*GOOGLE_CLICKS, "fbclid", "fbc") if touch.get(k)}
    if order.attribution and order.attribution.fbp:
        found["fbp"] = order.attribution.fbp
    elif touch.get("fbp"):
        found["fbp"] = str(touch["fbp"])
    return found


async def conversion_networks(session: AsyncSession, store_id: str) -> set[str]:
    """The store's connected networks that take conversions (read once per batch of orders)."""
    return set(
        await session.scalars(
            select(ChannelConnection.network).where(
                ChannelConnection.store_id == store_id,
                ChannelConnection.network.in_([Network.GOOGLE_ADS, Network.META]),
            )
        )
    )


async def plan_order_conversions(
    session: AsyncSession,
    store_id: str,
    event_id: str,
    order: OrderPlaced,
    placed_at: datetime,
    connected: set[str],
) -> None:
    """Once per order, when its `order.placed` is first projected (after its attribution);
    `connected`: the store's `conversion_networks`."""
    if not connected:
        return
    clicks = _clicks(await session.get(OrderAttribution, (store_id, order.order_id)), order)
    networks = []
    if Network.GOOGLE_ADS in connected and any(k in clicks for k in GOOGLE_CLICKS):
        networks.append(Network.GOOGLE_ADS)
    if Network.META in connected:
        customer = await session.get(Customer, (store_id, order.customer_id))
        consented = bool(customer and customer.consent_ads and (customer.email or customer.phone))
        if consented or any(k in clicks for k in META_CLICKS):
            networks.append(Network.META)
    now = datetime.now(UTC)
    for network in networks:
        await session.execute(
            insert(ChannelConversion)
            .values(
                id=new_id("cnv"),
                store_id=store_id,
                network=str(network),
                order_id=order.order_id,
                kind=str(Kind.CONVERSION),
                event_id=event_id,
                customer_id=order.customer_id,
                occurred_at=placed_at,
                value=order.total,
                currency=order.currency,
                status=str(Status.PENDING),
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
        )


async def plan_adjustment(
    session: AsyncSession, store_id: str, event_id: str, order_id: str, occurred_at: datetime
) -> None:
    """After a refund or cancel is projected: the Google conversion restated at the order's
    value now (a retraction when nothing is left), so nothing is counted twice. Nothing when no
    conversion counts (none, or refused for a reason other than being there already), or when
    it was retracted already."""
    conversion = await session.scalar(
        select(ChannelConversion).where(
            ChannelConversion.store_id == store_id,
            ChannelConversion.network == str(Network.GOOGLE_ADS),
            ChannelConversion.order_id == order_id,
            ChannelConversion.kind == str(Kind.CONVERSION),
        )
    )
    if conversion is None or (
        conversion.status == Status.REFUSED and conversion.response_code != DUPLICATE
    ):
        return
    retracted = await session.scalar(
        select(ChannelConversion.id).where(
            ChannelConversion.store_id == store_id,
            ChannelConversion.order_id == order_id,
            ChannelConversion.adjustment == "retraction",
        )
    )
    order = await session.get(Order, (store_id, order_id))
    if retracted is not None or order is None:
        return
    left = max(order.total - order.refunded_amount, 0)
    retraction = order.status == "cancelled" or left == 0
    now = datetime.now(UTC)
    await session.execute(
        insert(ChannelConversion)
        .values(
            id=new_id("cnv"),
            store_id=store_id,
            network=str(Network.GOOGLE_ADS),
            order_id=order_id,
            kind=str(Kind.ADJUSTMENT),
            event_id=event_id,
            customer_id=conversion.customer_id,
            # Google orders a conversion's adjustments by this time; it must follow the click's.
            occurred_at=max(occurred_at, conversion.occurred_at + timedelta(seconds=1)),
            value=0 if retraction else left,
            currency=conversion.currency,
            adjustment="retraction" if retraction else "restatement",
            status=str(Status.PENDING),
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
    )


async def runs_to_start(
    session: AsyncSession, placed: set[tuple[str, str]], changes: set[tuple[str, str]]
) -> dict[tuple[str, str], list[ConversionRun]]:
    """The unfinished rows of the batch's orders (`placed`: store, order id) and order changes
    (`changes`: store, event id), keyed like the keys given."""
    found: dict[tuple[str, str], list[ConversionRun]] = {}
    unfinished = ChannelConversion.status.in_([Status.PENDING, Status.RETRYING])
    queries = [
        (placed, Kind.CONVERSION, ChannelConversion.order_id),
        (changes, Kind.ADJUSTMENT, ChannelConversion.event_id),
    ]
    for keys, kind, column in queries:
        if not keys:
            continue
        rows = await session.scalars(
            select(ChannelConversion)
            .where(
                tuple_(ChannelConversion.store_id, column).in_(keys),
                ChannelConversion.kind == str(kind),
                unfinished,
            )
            .order_by(ChannelConversion.network)
        )
        for r in rows:
            key = (r.store_id, r.order_id if kind == Kind.CONVERSION else r.event_id)
            found.setdefault(key, []).append(ConversionRun(r.id, r.network, r.order_id, r.kind))
    return found


@dataclass(frozen=True)
class Attempt:
    """What one attempt sends (holds credentials and hashed contact data: never log it)."""

    row_id: str
    store_id: str
    network: Network
    creds: Credentials
    method: str  # Google's upload method; "events" for Meta
    body: Any


def _google_time(at: datetime) -> str:
    """`yyyy-mm-dd hh:mm:ss+hh:mm`, the format Google Ads wants."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


def _action(creds: Credentials) -> str:
    customer = creds.ids["customer_id"].replace("-", "")
    return f"customers/{customer}/conversionActions/{creds.ids['conversion_action_id']}"


async def _google_body(
    session: AsyncSession, row: ChannelConversion, creds: Credentials
) -> tuple[str, dict[str, Any]]:
    action = _action(creds)
    if row.kind == Kind.ADJUSTMENT:
        adjustment: dict[str, Any] = {
            "conversionAction": action,
            "adjustmentType": (row.adjustment or "").upper(),
            "adjustmentDateTime": _google_time(row.occurred_at),
            "orderId": row.order_id,
        }
        if row.adjustment == "restatement":
            value = float(to_major(row.value, row.currency))
            adjustment["restatementValue"] = {"adjustedValue": value, "currencyCode": row.currency}
        body = {"conversionAdjustments": [adjustment], "partialFailure": True}
        return "uploadConversionAdjustments", body
    attribution = await session.get(OrderAttribution, (row.store_id, row.order_id))
    touch = (attribution.last_touch if attribution else None) or {}
    click = next((k, str(touch[k])) for k in GOOGLE_CLICKS if touch.get(k))  # exactly one
    conversion = {
        click[0]: click[1],
        "conversionAction": action,
        "conversionDateTime": _google_time(row.occurred_at),
        "conversionValue": float(to_major(row.value, row.currency)),
        "currencyCode": row.currency,
        "orderId": row.order_id,
    }
    return "uploadClickConversions", {"conversions": [conversion], "partialFailure": True}


async def _meta_event(session: AsyncSession, row: ChannelConversion) -> dict[str, Any]:
    attribution = await session.get(OrderAttribution, (row.store_id, row.order_id))
    order = await session.get(Order, (row.store_id, row.order_id))
    touch = (attribution.last_touch if attribution else None) or {}
    user: dict[str, Any] = {}
    if touch.get("fbc"):
        user["fbc"] = str(touch["fbc"])
    fbp = (order.attribution or {}).get("fbp") if order else None
    if fbp or touch.get("fbp"):
        user["fbp"] = str(fbp or touch["fbp"])  # unhashed, as Meta wants
    customer = (
        await session.get(Customer, (row.store_id, row.customer_id)) if row.customer_id else None
    )
    if customer is not None and customer.consent_ads and customer.erased_at is None:
        if customer.email:
            user["em"] = [hashed_email(customer.email)]
        if customer.phone:
            user["ph"] = [meta_hashed_phone(customer.phone)]
    if row.customer_id:
        user["external_id"] = [sha256_hex(row.customer_id)]
    return {
        "event_name": "Purchase",
        "event_time": int(row.occurred_at.timestamp()),
        "event_id": row.order_id,
        "action_source": "website",
        "user_data": user,
        "custom_data": {
            "currency": row.currency,
            "value": float(to_major(row.value, row.currency)),
            "order_id": row.order_id,
        },
    }


async def prepare_attempt(
    session: AsyncSession, store_id: str, row_id: str, keys: ChannelKeys, now: datetime
) -> Attempt | Status:
    """The attempt to make, or the row's final status (recorded here when it is decided
    without asking the network)."""
    row = await session.get(ChannelConversion, row_id, with_for_update=True)
    if row is None or row.store_id != store_id:
        return Status.REFUSED
    if Status(row.status) in FINAL:
        return Status(row.status)
    network = Network(row.network)
    creds = await credentials(session, store_id, network, keys)
    if creds is None:
        return _decide(row, Status.REFUSED, f"the store is not connected to {network}", None)
    if network == Network.META:
        if now - row.occurred_at > META_MAX_AGE:
            reason = "the purchase is more than 7 days old: Meta refuses such events"
            return _decide(row, Status.REFUSED, reason, "event_time")
        return Attempt(
            row.id, store_id, network, creds, "events", [await _meta_event(session, row)]
        )
    if row.kind == Kind.ADJUSTMENT:
        conversion = await session.scalar(
            select(ChannelConversion).where(
                ChannelConversion.store_id == store_id,
                ChannelConversion.network == row.network,
                ChannelConversion.order_id == row.order_id,
                ChannelConversion.kind == str(Kind.CONVERSION),
            )
        )
        if conversion is None or (
            conversion.status == Status.REFUSED and conversion.response_code != DUPLICATE
        ):
            reason = "the conversion it adjusts was not recorded by the network"
            return _decide(row, Status.REFUSED, reason, None)
        if conversion.status not in FINAL:
            # Not sent yet: the run tries again; the adjustment follows the conversion.
            return _decide(row, Status.RETRYING, "waiting for the conversion to be sent", None)
    method, body = await _google_body(session, row, creds)
    return Attempt(row.id, store_id, network, creds, method, body)


def _decide(row: ChannelConversion, status: Status, message: str, code: str | None) -> Status:
    row.status = str(status)
    row.last_response = message
    row.response_code = code
    row.updated_at = datetime.now(UTC)
    return status


async def send(attempt: Attempt, keys: ChannelKeys, client: httpx.AsyncClient) -> Answer:
    """Send the attempt. In production a store's own `api_base_url` is resolved again first:
    DNS may have changed since it was saved (rebinding)."""
    base = attempt.creds.base_url
    if base and not keys.local_allowed and base != keys.base_url_override:
        try:
            await check_resolves_to_public(base, "api_base_url")
        except DomainError:
            reason = f"{urlsplit(base).hostname} does not resolve to a public address"
            return Answer(Outcome.RETRY, reason, None, reason)
    ids, secrets = attempt.creds.ids, attempt.creds.secrets
    if attempt.network == Network.META:
        return await send_meta(client, ids, secrets, base, attempt.body)
    return await upload_google(client, ids, secrets, base, attempt.method, attempt.body)


async def record_answer(
    session: AsyncSession, store_id: str, row_id: str, answer: Answer
) -> Status:
    row = await session.get(ChannelConversion, row_id, with_for_update=True)
    if row is None or row.store_id != store_id:
        return Status.REFUSED
    status = {
        Outcome.SENT: Status.SENT,
        Outcome.REFUSED: Status.REFUSED,
        Outcome.RETRY: Status.RETRYING,
    }[answer.outcome]
    row.attempts += 1
    _decide(row, status, answer.message, answer.code)
    if answer.connection_error or answer.outcome == Outcome.SENT:
        await record_connection(session, store_id, Network(row.network), answer.connection_error)
    return status


async def give_up(session: AsyncSession, store_id: str, row_id: str, reason: str) -> None:
    """The run's retries are over (the network stayed down): refused, with why."""
    row = await session.get(ChannelConversion, row_id, with_for_update=True)
    if row is not None and row.store_id == store_id and Status(row.status) not in FINAL:
        _decide(row, Status.REFUSED, reason, row.response_code)


async def for_order(session: AsyncSession, store_id: str, order_id: str) -> list[ChannelConversion]:
    rows = await session.scalars(
        select(ChannelConversion)
        .where(ChannelConversion.store_id == store_id, ChannelConversion.order_id == order_id)
        .order_by(ChannelConversion.created_at, ChannelConversion.id)
    )
    return list(rows)
