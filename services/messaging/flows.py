"""Flow configurations: versioned per store and kind, a run pins the version it started with."""

from collections import OrderedDict

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import FlowConfig, FlowKind
from models import FlowVersion
from models.database import SessionMaker
from services.errors import NotFound, invalid_field
from services.events.relay_failures import retry_store_now
from services.messaging.flow_config import default_flow
from services.messaging.promo_codes import check_rules_exist
from services.messaging.template_checks import check_flow_templates


def check_kind(kind: str) -> FlowKind:
    """The kind a path names; an unknown one is a 404."""
    if kind not in set(FlowKind):
        raise NotFound(f"unknown flow {kind!r}; flows are {', '.join(FlowKind)}")
    return FlowKind(kind)


async def current_flow(session: AsyncSession, store_id: str, kind: str) -> tuple[int, FlowConfig]:
    """The newest version of a store's flow; version 0 is the built-in default."""
    kind = check_kind(kind)
    row = (
        await session.execute(
            select(FlowVersion.version, FlowVersion.config)
            .where(FlowVersion.store_id == store_id, FlowVersion.kind == kind)
            .order_by(FlowVersion.version.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return 0, default_flow(kind)
    return row.version, FlowConfig.model_validate(row.config)


async def save_flow(session: AsyncSession, store_id: str, kind: str, config: FlowConfig) -> int:
    """Store a new version; runs in flight keep the one they started with."""
    kind = check_kind(kind)
    if kind == FlowKind.RETURN_PURCHASE and config.enabled:
        for n, step in enumerate(config.steps):
            if not step.promo_code_rule_id:
                raise invalid_field(
                    f"steps.{n}.promo_code_rule_id",
                    "a return_purchase flow sends a one-off code: each step must name a "
                    "promo-code rule (POST /v1/promo-code-rules) before the flow is enabled",
                )
    rules = {s.promo_code_rule_id for s in config.steps if s.promo_code_rule_id}
    await check_rules_exist(session, store_id, rules)
    await check_flow_templates(kind, config)
    # Serialise concurrent PUTs of one flow so versions stay gap-free and unique.
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(f"flow:{store_id}:{kind}")))
    )
    latest = await session.scalar(
        select(func.max(FlowVersion.version)).where(
            FlowVersion.store_id == store_id, FlowVersion.kind == kind
        )
    )
    version = (latest or 0) + 1
    session.add(
        FlowVersion(
            store_id=store_id, kind=kind, version=version, config=config.model_dump(mode="json")
        )
    )
    await session.flush()
    # The store's events set aside (its old flow could not start a run, say) go again now.
    await retry_store_now(session, store_id)
    return version


class PinnedFlows:
    """Flow configs by pinned version, read from PostgreSQL once per process: a saved version
    never changes, so an entry is never stale. Bounded (least recently used goes first): a
    worker holds the versions its runs pinned, a few per store and kind."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._configs: OrderedDict[tuple[str, str, int], FlowConfig] = OrderedDict()

    def remember(self, store_id: str, kind: str, version: int, config: FlowConfig) -> None:
        key = (store_id, kind, version)
        self._configs[key] = config
        self._configs.move_to_end(key)
        while len(self._configs) > self._size:
            self._configs.popitem(last=False)

    async def get(
        self, sessionmaker: SessionMaker, store_id: str, kind: str, version: int
    ) -> FlowConfig:
        key = (store_id, kind, version)
        if (config := self._configs.get(key)) is not None:
            self._configs.move_to_end(key)
            return config
        if version == 0:
            config = default_flow(check_kind(kind))
        else:
            async with sessionmaker() as session:
                raw = await session.scalar(
                    select(FlowVersion.config).where(
                        FlowVersion.store_id == store_id,
                        FlowVersion.kind == kind,
                        FlowVersion.version == version,
                    )
                )
            if raw is None:  # versions are never deleted: a run names one that was saved
                raise LookupError(f"flow version {store_id}/{kind}/{version} not found")
            config = FlowConfig.model_validate(raw)
        self.remember(store_id, kind, version, config)
        return config
