"""Catalog feeds (docs/channels.md): staff read the feed token and URLs and rotate the token;
Merchant Center and Meta fetch the feeds with the token in the URL, no API key."""

from typing import Annotated, Any

from fastapi import Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import SecretKey, SessionDep, SettingsDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.common import Page
from api.schemas.feeds import FeedProblemOut, FeedsOut, FeedUrls
from config import Settings
from services.channels import feed_tokens, feeds
from services.channels.feed_formats import FeedFormat, Network
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.stores.settings import StoreDefaults

router = guarded_router(tags=["feeds"], responses={401: ERROR_SCHEMA})
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
FILES: dict[FeedFormat, tuple[str, str]] = {
    "google_xml": ("google.xml", "application/xml"),
    "google_tsv": ("google.tsv", "text/tab-separated-values"),
    "meta_csv": ("meta.csv", "text/csv"),
}


def _urls(settings: Settings, token: str) -> FeedUrls:
    base = settings.public_base_url.rstrip("/")
    return FeedUrls(
        **{feed: f"{base}/v1/feeds/{name}?token={token}" for feed, (name, _) in FILES.items()}
    )


@router.get("/v1/feeds", response_model=FeedsOut, responses={403: ERROR_SCHEMA})
async def get_feeds(session: SessionDep, caller: SecretKey, settings: SettingsDep) -> FeedsOut:
    """The store's feed token (made on first call) and the URLs to give Merchant Center and Meta."""
    token = await feed_tokens.current_token(session, settings.channel_secret_key, caller.store_id)
    return FeedsOut(token=token, urls=_urls(settings, token))


@router.post("/v1/feeds/rotate-token", response_model=FeedsOut, responses={403: ERROR_SCHEMA})
async def rotate_feed_token(
    session: SessionDep, caller: SecretKey, settings: SettingsDep
) -> FeedsOut:
    """A new token: the old one (and every URL with it) stops working at once."""
    key = settings.channel_secret_key
    token = await feed_tokens.rotate_token(session, key, caller.store_id)
    return FeedsOut(token=token, urls=_urls(settings, token))


@router.get(
    "/v1/feeds/{network}/errors",
    response_model=Page[FeedProblemOut],
    responses={403: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)
async def list_feed_errors(
    network: Network,
    session: SessionDep,
    caller: SecretKey,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[FeedProblemOut]:
    """The products left out of the network's feed, by product id, with the reasons."""
    found, next_cursor = await feeds.feed_problems(session, caller.store_id, network, limit, cursor)
    items = [FeedProblemOut(product_id=p.product_id, reasons=p.reasons) for p in found]
    return Page(items=items, next_cursor=next_cursor)


async def _serve(
    feed: FeedFormat,
    request: Request,
    token: str | None,
    if_none_match: str | None,
    settings: Settings,
) -> Response:
    session = request.state.session
    access = await feed_tokens.authenticate_feed(session, token)
    defaults = StoreDefaults.from_settings(settings)
    prepared = await feeds.prepare_feed(session, access, feed, defaults)
    # Fetchers may keep the feed but must ask again each time (the ETag makes that cheap).
    headers = {"ETag": prepared.etag, "Cache-Control": "private, no-cache"}
    if feeds.matches(if_none_match, prepared.etag):
        return Response(status_code=304, headers=headers)
    body = feeds.stream_feed(request.app.state.sessionmaker, access.store_id, prepared)
    media_type = f"{FILES[feed][1]}; charset=utf-8"
    return StreamingResponse(body, media_type=media_type, headers=headers)


def _responses(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": "The feed (streamed)",
            "content": {media_type: {"schema": {"type": "string"}}},
        },
        304: {"description": "Not modified since the ETag given in If-None-Match"},
        401: ERROR_SCHEMA,
        404: ERROR_SCHEMA,
    }


Token = Annotated[str | None, Query(description="The store's feed token (GET /v1/feeds)")]
IfNoneMatch = Annotated[str | None, Header()]


@router.get(
    "/v1/feeds/google.xml", response_class=Response, responses=_responses("application/xml")
)
async def google_xml_feed(
    request: Request, settings: SettingsDep, token: Token = None, if_none_match: IfNoneMatch = None
) -> Response:
    """Merchant Center feed, RSS 2.0 with the g: namespace. Authenticated by the feed token."""
    return await _serve("google_xml", request, token, if_none_match, settings)


@router.get(
    "/v1/feeds/google.tsv",
    response_class=Response,
    responses=_responses("text/tab-separated-values"),
)
async def google_tsv_feed(
    request: Request, settings: SettingsDep, token: Token = None, if_none_match: IfNoneMatch = None
) -> Response:
    """Merchant Center feed, tab-separated. Authenticated by the feed token."""
    return await _serve("google_tsv", request, token, if_none_match, settings)


@router.get("/v1/feeds/meta.csv", response_class=Response, responses=_responses("text/csv"))
async def meta_csv_feed(
    request: Request, settings: SettingsDep, token: Token = None, if_none_match: IfNoneMatch = None
) -> Response:
    """Meta catalog feed, CSV. Authenticated by the feed token."""
    return await _serve("meta_csv", request, token, if_none_match, settings)
