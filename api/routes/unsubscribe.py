"""The unsubscribe link of every email. Opening it shows a button (mail scanners open links);
the button, and mail clients' one-click unsubscribe (RFC 8058), POST to the same URL."""

import html

from fastapi.responses import HTMLResponse

from api.deps import SessionDep, SettingsDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from services.errors import NotFound
from services.messaging.consent import unsubscribe_by_message, valid_unsubscribe_token

router = guarded_router(
    prefix="/v1/unsubscribe", tags=["unsubscribe"], responses={404: ERROR_SCHEMA}
)
PAGE = "<!DOCTYPE html><html><body style='font-family:sans-serif'>{}</body></html>"


def _check(secret: str, store_id: str, message_id: str, token: str) -> None:
    if not valid_unsubscribe_token(secret, store_id, message_id, token):
        raise NotFound("unknown unsubscribe link")


@router.get("/{store_id}/{message_id}", response_class=HTMLResponse)
async def unsubscribe_page(
    store_id: str, message_id: str, token: str, settings: SettingsDep
) -> HTMLResponse:
    """A page that asks to confirm; nothing changes until the button is pressed."""
    _check(settings.unsubscribe_secret, store_id, message_id, token)
    form = (
        f"<form method='post' action='?token={html.escape(token)}'>"
        "<p>Stop receiving these emails?</p><button type='submit'>Unsubscribe</button></form>"
    )
    return HTMLResponse(PAGE.format(form))


@router.post("/{store_id}/{message_id}", response_class=HTMLResponse)
async def unsubscribe(
    store_id: str, message_id: str, token: str, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """Withdraw email consent of the customer the message went to."""
    _check(settings.unsubscribe_secret, store_id, message_id, token)
    if not await unsubscribe_by_message(session, store_id, message_id):
        raise NotFound("unknown unsubscribe link")
    return HTMLResponse(PAGE.format("<p>You are unsubscribed from these emails.</p>"))
