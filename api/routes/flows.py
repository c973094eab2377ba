"""Automated-message flows: read and replace their configuration (each PUT is a new version)."""

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.common import Page
from api.schemas.flows import FlowOut
from flow_contract import FlowConfig, FlowKind
from services.messaging.flow_config import with_kind_defaults
from services.messaging.flows import check_kind, current_flow, save_flow

router = guarded_router(
    prefix="/v1/flows", tags=["flows"], responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA}
)


@router.get("", response_model=Page[FlowOut])
async def list_flows(session: SessionDep, caller: SecretKey) -> Page[FlowOut]:
    """Every flow of the store, at its current version."""
    items = []
    for kind in FlowKind:
        version, config = await current_flow(session, caller.store_id, kind)
        items.append(FlowOut(kind=kind, version=version, **config.model_dump()))
    return Page(items=items, next_cursor=None)


@router.get("/{kind}", response_model=FlowOut, responses={404: ERROR_SCHEMA})
async def get_flow(kind: str, session: SessionDep, caller: SecretKey) -> FlowOut:
    """One flow at its current version (version 0 is the built-in default)."""
    version, config = await current_flow(session, caller.store_id, kind)
    return FlowOut(kind=kind, version=version, **config.model_dump())


@router.put("/{kind}", response_model=FlowOut, responses={404: ERROR_SCHEMA, 422: ERROR_SCHEMA})
async def put_flow(kind: str, body: FlowConfig, session: SessionDep, caller: SecretKey) -> FlowOut:
    """Replace a flow: a new version for new runs; runs in flight keep theirs, unless the new
    version turns the flow off, which stops them at their next step. Left out,
    `trigger_delay_seconds` is the kind's default (browse reminder 1800, others 86400)."""
    body = with_kind_defaults(check_kind(kind), body)
    version = await save_flow(session, caller.store_id, kind, body)
    return FlowOut(kind=kind, version=version, **body.model_dump())
