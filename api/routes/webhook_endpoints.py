"""Outbound webhooks: the endpoints a store's platform receives events at, and the deliveries
made to them (docs/webhooks.md)."""

from typing import Annotated

from fastapi import Query, Response

from api.deps import SecretKey, SessionDep, SettingsDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.common import Page
from api.schemas.webhook_endpoints import (
    WebhookDeliveryDetail,
    WebhookDeliveryOut,
    WebhookEndpointCreated,
    WebhookEndpointIn,
    WebhookEndpointOut,
)
from services.growth import webhooks
from services.growth.webhooks import DeliveryEvent, DeliveryStatus
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = guarded_router(tags=["webhooks"], responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA})
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post(
    "/v1/webhook-endpoints",
    status_code=201,
    response_model=WebhookEndpointCreated,
    responses={409: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)
async def create_webhook_endpoint(
    body: WebhookEndpointIn, session: SessionDep, caller: SecretKey, settings: SettingsDep
) -> WebhookEndpointCreated:
    """Subscribe a URL to events; the answer carries the signing secret, this once."""
    endpoint, secret = await webhooks.create_endpoint(
        session,
        caller.store_id,
        body.url,
        body.events,
        secret_key=settings.webhook_secret_key,
        local_allowed=settings.environment != "production",
    )
    out = WebhookEndpointOut.model_validate(endpoint)
    return WebhookEndpointCreated(**out.model_dump(), secret=secret)


@router.get(
    "/v1/webhook-endpoints",
    response_model=Page[WebhookEndpointOut],
    responses={422: ERROR_SCHEMA},
)
async def list_webhook_endpoints(
    session: SessionDep,
    caller: SecretKey,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[WebhookEndpointOut]:
    """The store's endpoints, newest first (never their secrets)."""
    rows, next_cursor = await webhooks.list_endpoints(
        session, caller.store_id, limit=limit, cursor=cursor
    )
    return Page(items=[WebhookEndpointOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/v1/webhook-endpoints/{endpoint_id}/test",
    status_code=202,
    response_model=WebhookDeliveryOut,
    responses={404: ERROR_SCHEMA},
)
async def test_webhook_endpoint(
    endpoint_id: str, session: SessionDep, caller: SecretKey
) -> WebhookDeliveryOut:
    """Send a `ping` event to this endpoint, signed and retried like any other."""
    delivery = await webhooks.send_test(session, caller.store_id, endpoint_id)
    return WebhookDeliveryOut.model_validate(delivery)


@router.get(
    "/v1/webhook-endpoints/{endpoint_id}",
    response_model=WebhookEndpointOut,
    responses={404: ERROR_SCHEMA},
)
async def get_webhook_endpoint(
    endpoint_id: str, session: SessionDep, caller: SecretKey
) -> WebhookEndpointOut:
    """One endpoint (never its secret)."""
    endpoint = await webhooks.get_endpoint(session, caller.store_id, endpoint_id)
    return WebhookEndpointOut.model_validate(endpoint)


@router.delete(
    "/v1/webhook-endpoints/{endpoint_id}", status_code=204, responses={404: ERROR_SCHEMA}
)
async def delete_webhook_endpoint(
    endpoint_id: str, session: SessionDep, caller: SecretKey
) -> Response:
    """Stop sending to it; deliveries under way end `failed` at their next attempt."""
    await webhooks.delete_endpoint(session, caller.store_id, endpoint_id)
    return Response(status_code=204)


@router.get(
    "/v1/webhook-deliveries",
    response_model=Page[WebhookDeliveryOut],
    responses={422: ERROR_SCHEMA},
)
async def list_webhook_deliveries(
    session: SessionDep,
    caller: SecretKey,
    event: DeliveryEvent | None = None,
    status: DeliveryStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[WebhookDeliveryOut]:
    """The store's deliveries, newest first, with their status and attempts."""
    rows, next_cursor = await webhooks.list_deliveries(
        session, caller.store_id, event=event, status=status, limit=limit, cursor=cursor
    )
    return Page(items=[WebhookDeliveryOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/v1/webhook-deliveries/{delivery_id}",
    response_model=WebhookDeliveryDetail,
    responses={404: ERROR_SCHEMA},
)
async def get_webhook_delivery(
    delivery_id: str, session: SessionDep, caller: SecretKey
) -> WebhookDeliveryDetail:
    """One delivery with the exact payload its attempts send."""
    delivery = await webhooks.get_delivery(session, caller.store_id, delivery_id)
    return WebhookDeliveryDetail.model_validate(delivery)
