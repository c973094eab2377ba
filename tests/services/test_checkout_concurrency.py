"""Races at checkout completion: the last use of a coupon and the balance of a gift card go to
exactly as many orders as they can serve, whatever the interleaving."""

import asyncio
from collections import Counter

import httpx
from sqlalchemy import func, select

from config import Settings
from models import CouponRedemption, GiftCard, GiftCardTransaction
from models.database import SessionMaker
from services.checkout.inputs import CheckoutItem, CheckoutRequest
from services.checkout.service import complete_checkout
from services.errors import Conflict
from tests.api.shop import FIXED_5, cart, coupon, gift_card, promotion
from tests.conftest import StoreKeys

RACERS = 50


async def test_last_use_of_a_coupon_goes_to_one_order(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    coded = await promotion(api, store, FIXED_5, requires_coupon=True)
    code = await coupon(api, store, coded["id"], code="SOLO", usage="limited", usage_limit=1)
    body = cart(("p1", 1, 2000), coupon_codes=["SOLO"])

    async def attempt(n: int) -> httpx.Response:
        return await api.post(
            "/v1/checkout/complete", json={**body, "order_id": f"o{n}"}, headers=store.auth()
        )

    responses = await asyncio.gather(*(attempt(n) for n in range(RACERS)))
    outcomes = Counter(
        "ok" if r.status_code == 200 else f"{r.status_code} {r.json()['error']['code']}"
        for r in responses
    )
    assert outcomes == {"ok": 1, "409 coupon_exhausted": RACERS - 1}
    used = await api.get(f"/v1/coupons/{code['id']}", headers=store.auth())
    assert used.json()["used_count"] == 1


async def race(
    sessionmaker: SessionMaker,
    store_id: str,
    key: str,
    request: CheckoutRequest,
    order_ids: list[str],
) -> Counter[str]:
    """Each order completes in its own session and transaction, all at once."""

    async def attempt(order_id: str) -> str:
        try:
            async with sessionmaker.begin() as session:
                await complete_checkout(session, store_id, request, order_id, key)
        except Conflict as exc:
            return exc.code
        return "ok"

    return Counter(await asyncio.gather(*(attempt(o) for o in order_ids)))


async def test_once_per_customer_holds_under_a_race(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker, settings: Settings
) -> None:
    coded = await promotion(api, store, FIXED_5, requires_coupon=True)
    code = await coupon(api, store, coded["id"], code="WELCOME", usage="single_use_per_customer")
    request = CheckoutRequest(
        "USD", (CheckoutItem("p1", None, 1, 2000),), 0, customer_id="ann", coupon_codes=("WELCOME",)
    )
    outcomes = await race(
        sessionmaker,
        store.id,
        settings.gift_card_hash_key,
        request,
        [f"o{n}" for n in range(RACERS)],
    )
    assert outcomes["ok"] == 1
    assert sum(outcomes.values()) == RACERS
    assert set(outcomes) <= {"ok", "coupon_already_used_by_customer"}
    async with sessionmaker() as session:
        uses = await session.scalar(
            select(func.count()).where(CouponRedemption.coupon_id == code["id"])
        )
    assert uses == 1


async def test_gift_card_serves_exactly_its_balance(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker, settings: Settings
) -> None:
    card = await gift_card(api, store, 10_000)
    request = CheckoutRequest(
        "USD", (CheckoutItem("p1", None, 1, 1000),), 0, gift_card_codes=(card["code"],)
    )
    outcomes = await race(
        sessionmaker,
        store.id,
        settings.gift_card_hash_key,
        request,
        [f"o{n}" for n in range(RACERS)],
    )
    assert outcomes == {"ok": 10, "gift_card_insufficient_balance": RACERS - 10}
    async with sessionmaker() as session:
        balance = await session.scalar(select(GiftCard.balance).where(GiftCard.id == card["id"]))
        draws = await session.scalar(
            select(func.sum(GiftCardTransaction.amount)).where(
                GiftCardTransaction.gift_card_id == card["id"],
                GiftCardTransaction.kind == "redemption",
            )
        )
    assert balance == 0 and draws == -10_000


async def test_simultaneous_retries_of_one_order_redeem_once(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker, settings: Settings
) -> None:
    card = await gift_card(api, store, 10_000)
    request = CheckoutRequest(
        "USD", (CheckoutItem("p1", None, 1, 1000),), 0, gift_card_codes=(card["code"],)
    )
    outcomes = await race(
        sessionmaker, store.id, settings.gift_card_hash_key, request, ["same-order"] * 20
    )
    assert outcomes == {"ok": 20}
    async with sessionmaker() as session:
        balance = await session.scalar(select(GiftCard.balance).where(GiftCard.id == card["id"]))
    assert balance == 9_000
