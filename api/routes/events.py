"""Event intake from the commerce platform."""

from fastapi import Request

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.events import EventBatch, EventsAccepted
from services.events.intake import accept_body

router = guarded_router(prefix="/v1/events", tags=["events"])


# The body is read as bytes and validated in one pass straight from them (services/events):
# FastAPI would decode it to dicts and walk them once more first. The schema still shows it.
@router.post(
    "",
    status_code=202,
    response_model=EventsAccepted,
    responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 422: ERROR_SCHEMA},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": EventBatch.model_json_schema()}},
        }
    },
)
async def post_events(request: Request, session: SessionDep, caller: SecretKey) -> EventsAccepted:
    """Store a batch of events (all or nothing); answered only after the commit."""
    result = await accept_body(session, caller.store_id, await request.body())
    return EventsAccepted(accepted=result.accepted, duplicates=result.duplicates)
