"""Gift cards: a secret code shown once, stored as a keyed hash, looked up by code or id."""

import hashlib
import hmac

import httpx
from sqlalchemy import select

from models import GiftCard
from models.database import SessionMaker
from services.checkout.code_text import ALPHABET
from tests.api.shop import fields_of, gift_card
from tests.conftest import StoreKeys, make_store


async def test_issue_shows_the_code_once_and_stores_a_keyed_hash(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    issued = await gift_card(api, store, 10_000)
    code = issued["code"]
    raw = code.replace("-", "")
    assert len(raw) == 16 and set(raw) <= set(ALPHABET)
    assert issued["last4"] == raw[-4:] and issued["balance"] == 10_000
    async with sessionmaker() as session:
        card = await session.scalar(select(GiftCard).where(GiftCard.id == issued["id"]))
    assert card is not None and raw not in card.code_hash
    expected = hmac.new(b"dev-gift-card-hash-key", raw.encode(), hashlib.sha256).hexdigest()
    assert card.code_hash == expected
    fetched = await api.get(f"/v1/gift-cards/{code.lower()}", headers=store.auth())
    assert fetched.status_code == 200, fetched.text
    body = fetched.json()
    assert body["code"] == f"****{raw[-4:]}" and raw not in fetched.text
    assert body["balance"] == 10_000
    assert [(t["kind"], t["amount"], t["balance_after"]) for t in body["transactions"]] == [
        ("issue", 10_000, 10_000)
    ]
    by_id = await api.get(f"/v1/gift-cards/{issued['id']}", headers=store.auth())
    assert by_id.json() == body
    listed = await api.get("/v1/gift-cards", headers=store.auth())
    assert raw not in listed.text and listed.json()["items"][0]["id"] == issued["id"]


async def test_chosen_code_must_be_long_and_unique(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    issued = await gift_card(api, store, 500, code="abcd efgh jkmn pqrs")
    assert issued["code"] == "ABCD-EFGH-JKMN-PQRS"
    again = await api.post(
        "/v1/gift-cards",
        json={"initial_balance": 1, "currency": "USD", "code": "ABCDEFGHJKMNPQRS"},
        headers=store.auth(),
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "gift_card_code_taken"
    short = await api.post(
        "/v1/gift-cards",
        json={"initial_balance": 1, "currency": "USD", "code": "SHORT"},
        headers=store.auth(),
    )
    assert short.status_code == 422 and fields_of(short) == {"code"}


async def test_bad_input_names_the_field(api: httpx.AsyncClient, store: StoreKeys) -> None:
    cases = [
        ({"initial_balance": -100, "currency": "USD"}, "initial_balance"),
        ({"initial_balance": 0, "currency": "USD"}, "initial_balance"),
        ({"initial_balance": 10.5, "currency": "USD"}, "initial_balance"),
        ({"initial_balance": 100, "currency": "usd"}, "currency"),
        (
            {"initial_balance": 100, "currency": "USD", "expires_at": "2001-01-01T00:00:00Z"},
            "expires_at",
        ),
    ]
    for body, field in cases:
        response = await api.post("/v1/gift-cards", json=body, headers=store.auth())
        assert response.status_code == 422, (body, response.text)
        assert fields_of(response) == {field}


async def test_unknown_and_other_store(api: httpx.AsyncClient, store: StoreKeys) -> None:
    issued = await gift_card(api, store, 100)
    other = await make_store(api, "Other")
    for ref in (issued["code"], issued["id"]):
        response = await api.get(f"/v1/gift-cards/{ref}", headers=other.auth())
        assert response.status_code == 404
    missing = await api.get("/v1/gift-cards/ABCDEFGHJKMNPQRS", headers=store.auth())
    assert missing.status_code == 404
    public = await api.get(f"/v1/gift-cards/{issued['code']}", headers=store.auth("publishable"))
    assert public.status_code == 403
