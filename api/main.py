"""The FastAPI application: admin API, event intake, storefront and health."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api.errors import install_error_handlers
from api.guard import Limiters
from api.middleware import BodyLimit, SecurityHeaders
from api.routes import (
    ad_campaigns,
    affiliates,
    attribution,
    audiences,
    bundles,
    channels,
    checkout,
    conversions,
    coupons,
    events,
    feeds,
    flow_stats,
    flows,
    gift_cards,
    group_deals,
    health,
    messages,
    programs,
    promo_code_rules,
    promotions,
    recommendations,
    relay_failures,
    shopper_tokens,
    store_credit,
    store_settings,
    storefront_ads,
    stores,
    unsubscribe,
    webhook_endpoints,
    webhooks,
)
from config import Settings, load_settings_or_exit
from models.database import (
    DirectStatements,
    autocommit_sessionmaker,
    create_engine,
    create_sessionmaker,
)
from services.ads.event_batches import AdEventBatches
from services.logging import configure_logging


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings_or_exit()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.require_database_url())
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.autocommit_sessionmaker = autocommit_sessionmaker(app.state.sessionmaker)
        app.state.direct_statements = DirectStatements(settings.require_database_url())
        app.state.ad_event_batches = AdEventBatches(app.state.direct_statements)
        yield
        await app.state.direct_statements.dispose()
        await engine.dispose()

    configure_logging(settings.log_level)
    # /docs and /redoc with Swagger UI and ReDoc served by the api itself: no CDN, work offline
    app = FastAPIOffline(
        title="ShopSTAR3 marketing engine",
        version="0.1.0",
        description="Store-scoped marketing automation: events in, durable flows out.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.limiters = Limiters(settings)
    install_error_handlers(app)
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        per_path={"/v1/events": settings.max_events_body_bytes},
    )
    app.add_middleware(SecurityHeaders)
    # Routing tries the routes in order: the hot paths (storefront, checkout, intake) come first.
    for module in (
        health,
        storefront_ads,
        checkout,
        events,
        stores,
        flows,
        flow_stats,
        messages,
        relay_failures,
        promotions,
        promo_code_rules,
        coupons,
        gift_cards,
        store_credit,
        bundles,
        recommendations,
        shopper_tokens,
        store_settings,
        webhooks,
        webhook_endpoints,
        group_deals,
        channels,
        conversions,
        affiliates,
        ad_campaigns,
        programs,
        feeds,
        unsubscribe,
        attribution,
        audiences,
    ):
        app.include_router(module.router)
    return app
