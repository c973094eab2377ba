"""The unsubscribe link of an email: opening it changes nothing (mail scanners open links), the
button and mail clients' one-click POST withdraw email consent; a forged link is refused."""

from urllib.parse import urlsplit

import httpx

from config import Settings
from models.database import SessionMaker
from services.messaging.consent import unsubscribe_url
from tests.conftest import StoreKeys
from tests.integrations.rows import add_customer, add_message, customer_row


async def test_the_link_unsubscribes_only_its_own_customer_and_only_on_post(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker, settings: Settings
) -> None:
    await add_customer(sessionmaker, store.id)
    await add_customer(sessionmaker, store.id, "c_2")
    message_id = await add_message(sessionmaker, store.id, channel="email")
    link = urlsplit(unsubscribe_url("https://x", settings.unsubscribe_secret, store.id, message_id))
    target = f"{link.path}?{link.query}"

    page = await api.get(target)
    assert page.status_code == 200
    assert "<form method='post'" in page.text
    assert (await customer_row(sessionmaker, store.id)).consent_email

    one_click = await api.post(target, content="List-Unsubscribe=One-Click")
    assert one_click.status_code == 200
    assert not (await customer_row(sessionmaker, store.id)).consent_email
    assert (await customer_row(sessionmaker, store.id, "c_2")).consent_email

    forged = await api.post(f"/v1/unsubscribe/{store.id}/{message_id}?token=0123")
    assert forged.status_code == 404
    assert forged.json()["error"]["code"] == "not_found"
    other_message = f"/v1/unsubscribe/{store.id}/msg_other?{link.query}"
    assert (await api.post(other_message)).status_code == 404
