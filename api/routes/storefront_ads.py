"""The storefront's side of on-site ads (publishable key): which ad to show, and its
impression and click (docs/ads.md)."""

from fastapi import Response

from api.deps import AdEventBatchesDep, AnyKey, DirectDep, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import autocommit, guarded_router
from api.schemas.ad_campaigns import (
    AdEventBatchIn,
    AdEventBatchOut,
    AdEventIn,
    AdEventOut,
    AdEventResult,
    AdRequest,
    Creative,
    ServedAd,
)
from services.ads import events, serving

# Serving writes the visitor's slot and the impression in one statement, and an event is an
# idempotent conditional update: no request transaction (two round trips fewer per call).
router = guarded_router(tags=["storefront ads"], responses={401: ERROR_SCHEMA})


@router.post(
    "/v1/storefront/ads",
    response_model=ServedAd,
    responses={204: {"description": "No ad to show here"}, 422: ERROR_SCHEMA},
)
@autocommit
async def serve_ad(
    body: AdRequest, session: SessionDep, direct: DirectDep, caller: AnyKey
) -> ServedAd | Response:
    """The ad for this placement and visitor, or 204 when no campaign is eligible."""
    request = serving.AdRequest(**body.model_dump())
    served = await serving.serve_ad(session, caller.store_id, request, direct)
    if served is None:
        return Response(status_code=204)
    return ServedAd(
        campaign_id=served.campaign_id,
        variant_key=served.variant_key,
        creative=Creative.model_validate(served.creative),
        impression_token=served.impression_token,
    )


@router.post(
    "/v1/storefront/ad-events",
    status_code=202,
    response_model=AdEventOut,
    responses={404: ERROR_SCHEMA, 409: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)
@autocommit
async def record_ad_event(
    body: AdEventIn, batches: AdEventBatchesDep, caller: AnyKey
) -> AdEventOut:
    """An impression or click of a served ad, counted once per token and type (a repeat is 202
    with `counted: false`); a click before its impression is 409 `impression_not_recorded`.
    Counted with the events other requests brought meanwhile, before the 202."""
    outcome = await batches.record(caller.store_id, body.impression_token, body.type)
    return AdEventOut(type=body.type, counted=events.single_outcome(outcome))


@router.post(
    "/v1/storefront/ad-events/batch",
    status_code=202,
    response_model=AdEventBatchOut,
    responses={422: ERROR_SCHEMA},
)
@autocommit
async def record_ad_events(
    body: AdEventBatchIn, direct: DirectDep, caller: AnyKey
) -> AdEventBatchOut:
    """Up to 100 impressions and clicks at once (a storefront's beacon), in three statements:
    each token and type counted once (its first occurrence says `counted`), the batch's
    impressions before its clicks; an event that cannot be counted says why in its result and
    the others still count."""
    pairs = [(e.impression_token, e.type) for e in body.events]
    results = await events.record_events(direct, caller.store_id, pairs)
    return AdEventBatchOut(
        results=[
            AdEventResult(type=kind, counted=counted, error=error)
            for (_, kind), (counted, error) in zip(pairs, results, strict=True)
        ]
    )
