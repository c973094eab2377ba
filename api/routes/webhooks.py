"""Provider webhooks. No API key: the provider's signature is the authentication, checked
before anything else. Per-store URLs (the store id in the path) suit a store with its own number
or SendGrid account; the account-wide ones suit the deployment's shared sender, whose events
name their store (SendGrid custom args) or apply to every store (a STOP to a shared number)."""

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import ImmutableMultiDict

from api.deps import SessionDep, SettingsDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from config import Settings
from models.database import SessionMaker
from services.channels.connections import ChannelKeys, Network, record_outcome
from services.channels.tiktok_orders import ChannelUnavailable, receive_webhook
from services.errors import InvalidInput, invalid_field
from services.messaging.provider_events import (
    apply_sendgrid_events,
    apply_twilio_inbound,
    apply_twilio_status,
)
from services.messaging.webhook_signatures import check_sendgrid_signature, check_twilio_signature
from services.stores.service import get_store

router = guarded_router(
    prefix="/v1/webhooks", tags=["webhooks"], responses={401: ERROR_SCHEMA, 404: ERROR_SCHEMA}
)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
EventCounts = dict[str, int]


def public_url(settings: Settings, request: Request) -> str:
    """The URL as the provider called it: behind a proxy the api sees another host."""
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{settings.public_base_url.rstrip('/')}{request.url.path}{query}"


async def _signed_twilio_form(request: Request, settings: Settings) -> ImmutableMultiDict[str, str]:
    body = (await request.body()).decode("utf-8", errors="replace")
    form = ImmutableMultiDict(parse_qsl(body, keep_blank_values=True))
    check_twilio_signature(
        settings.twilio_auth_token,
        public_url(settings, request),
        form,
        request.headers.get("X-Twilio-Signature"),
    )
    return form


@router.post("/twilio/{store_id}/status", status_code=204, response_class=Response)
async def twilio_status(
    store_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    message_id: str | None = None,
) -> Response:
    """Twilio's status callback of a message we sent: the status moves forward only. The URL we
    gave Twilio carries our `message_id` (signed with the rest of the URL), so a message whose
    SID never came back to us is found too."""
    form = await _signed_twilio_form(request, settings)
    await get_store(session, store_id)
    await apply_twilio_status(
        session,
        store_id,
        form.get("MessageSid", ""),
        form.get("MessageStatus", ""),
        form.get("ErrorCode") or None,
        message_id,
    )
    return Response(status_code=204)


async def _inbound(
    store_id: str | None, request: Request, session: AsyncSession, settings: Settings
) -> Response:
    form = await _signed_twilio_form(request, settings)
    if store_id is not None:
        await get_store(session, store_id)
    message_sid = form.get("MessageSid", "")
    if not message_sid:  # Twilio always sends it: it is what makes a replay harmless
        raise invalid_field("MessageSid", "required")
    await apply_twilio_inbound(
        session, store_id, message_sid, form.get("From", ""), form.get("Body", "")
    )
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/twilio/{store_id}/inbound", response_class=Response, responses={422: ERROR_SCHEMA})
async def twilio_inbound(
    store_id: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """A reply to the store's own number: STOP and the other opt-out words, START to opt in."""
    return await _inbound(store_id, request, session, settings)


@router.post("/twilio/inbound", response_class=Response, responses={422: ERROR_SCHEMA})
async def twilio_inbound_shared(
    request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """A reply to the number all stores send from: the opt-out or opt-in holds in every store."""
    return await _inbound(None, request, session, settings)


async def _events(
    store_id: str | None, request: Request, session: AsyncSession, settings: Settings
) -> EventCounts:
    body = await request.body()
    check_sendgrid_signature(
        settings.sendgrid_webhook_public_key,
        body,
        request.headers.get("X-Twilio-Email-Event-Webhook-Signature"),
        request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp"),
    )
    if store_id is not None:
        await get_store(session, store_id)
    try:
        events: Any = json.loads(body)
    except ValueError:
        raise InvalidInput("the body is not JSON") from None
    if not isinstance(events, list):
        raise InvalidInput("the body must be a JSON array of events")
    counts = await apply_sendgrid_events(session, store_id, events)
    return {"applied": counts.applied, "duplicates": counts.duplicates, "ignored": counts.ignored}


@router.post("/sendgrid/{store_id}/events", responses={422: ERROR_SCHEMA})
async def sendgrid_events(
    store_id: str, request: Request, session: SessionDep, settings: SettingsDep
) -> EventCounts:
    """SendGrid's event webhook for one store: delivery, bounces, drops, spam reports and
    unsubscribes."""
    return await _events(store_id, request, session, settings)


@router.post("/sendgrid/events", responses={422: ERROR_SCHEMA})
async def sendgrid_events_shared(
    request: Request, session: SessionDep, settings: SettingsDep
) -> EventCounts:
    """SendGrid's event webhook for the shared account: each event names its store."""
    return await _events(None, request, session, settings)


@router.post(
    "/tiktok-shop/{store_id}",
    responses={422: ERROR_SCHEMA, 503: ERROR_SCHEMA},
)
async def tiktok_shop_events(
    store_id: str, request: Request, session: SessionDep, settings: SettingsDep
) -> EventCounts:
    """TikTok Shop's webhooks (`ORDER_STATUS_CHANGE`), signed by the store's TikTok app: a paid
    order becomes `order.placed` (`channel: tiktok_shop`), a cancelled one `order.cancelled`.
    A bad signature, or a store without a TikTok Shop connection, is a 401 and changes nothing;
    a TikTok Shop that cannot be asked for the order is a 503 with Retry-After (TikTok retries)."""
    keys = ChannelKeys.from_settings(settings)
    try:
        return await receive_webhook(
            session, store_id, await request.body(), request.headers.get("Authorization"), keys
        )
    except ChannelUnavailable as exc:
        # The request's transaction rolls back: staff see the failure through one of its own.
        sessionmaker: SessionMaker = request.app.state.sessionmaker
        async with sessionmaker.begin() as own:
            await record_outcome(own, store_id, Network.TIKTOK_SHOP, exc.message)
        raise
