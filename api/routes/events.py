"""Event intake from the commerce platform."""

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.events import EventBatch, EventsAccepted
from services.events.intake import accept_events

router = guarded_router(prefix="/v1/events", tags=["events"])


@router.post(
    "",
    status_code=202,
    response_model=EventsAccepted,
    responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)
async def post_events(body: EventBatch, session: SessionDep, caller: SecretKey) -> EventsAccepted:
    """Store a batch of events (all or nothing); answered only after the commit."""
    result = await accept_events(session, caller.store_id, body.events)
    return EventsAccepted(accepted=result.accepted, duplicates=result.duplicates)
