"""Store credit: a ledger per customer and currency, kept apart from gift cards. A debit is one
conditional UPDATE, so concurrent debits can never take the balance below zero."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Customer, StoreCreditAccount, StoreCreditEntry
from services.errors import Conflict, NotFound, StoreCreditInsufficient, invalid_field
from services.ids import new_id
from services.pagination import fetch_page


async def require_customer(session: AsyncSession, store_id: str, customer_id: str) -> None:
    """404 for a customer this store knows nothing about (another store's included)."""
    known = await session.scalar(
        select(exists().where(Customer.store_id == store_id, Customer.customer_id == customer_id))
    )
    if not known:
        raise NotFound("customer not found")


async def post_store_credit(
    session: AsyncSession,
    store_id: str,
    customer_id: str,
    *,
    amount: int,
    currency: str,
    reason: str,
) -> StoreCreditEntry:
    """Credit (amount > 0) or debit (amount < 0) the customer's balance in `currency`."""
    if amount == 0:
        raise invalid_field("amount", "must not be zero (negative for a debit)")
    await require_customer(session, store_id, customer_id)
    account = (
        StoreCreditAccount.store_id == store_id,
        StoreCreditAccount.customer_id == customer_id,
        StoreCreditAccount.currency == currency,
    )
    if amount > 0:
        stmt = insert(StoreCreditAccount).values(
            store_id=store_id, customer_id=customer_id, currency=currency, balance=amount
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["store_id", "customer_id", "currency"],
            set_={"balance": StoreCreditAccount.balance + amount},
        )
        balance = await session.scalar(stmt.returning(StoreCreditAccount.balance))
    else:
        balance = await session.scalar(
            update(StoreCreditAccount)
            .where(*account, StoreCreditAccount.balance + amount >= 0)
            .values(balance=StoreCreditAccount.balance + amount)
            .returning(StoreCreditAccount.balance)
        )
        if balance is None:
            held = await session.scalar(select(StoreCreditAccount.balance).where(*account)) or 0
            raise Conflict(
                f"the balance is {held}: a debit of {-amount} would take it below zero",
                code="insufficient_store_credit",
                details={"balance": held, "currency": currency},
            )
    assert balance is not None
    entry = _entry(store_id, customer_id, currency, amount, balance, reason, order_id=None)
    session.add(entry)
    await session.flush()
    return entry


async def store_credit_balances(
    session: AsyncSession, store_id: str, customer_id: str
) -> Sequence[StoreCreditAccount]:
    """Balances per currency; 404 for a customer the store knows nothing about."""
    rows = (
        await session.scalars(
            select(StoreCreditAccount)
            .where(
                StoreCreditAccount.store_id == store_id,
                StoreCreditAccount.customer_id == customer_id,
            )
            .order_by(StoreCreditAccount.currency)
        )
    ).all()
    if not rows:
        await require_customer(session, store_id, customer_id)
    return rows


async def list_entries(
    session: AsyncSession, store_id: str, customer_id: str, *, limit: int, cursor: str | None
) -> tuple[Sequence[StoreCreditEntry], str | None]:
    await require_customer(session, store_id, customer_id)
    query = select(StoreCreditEntry).where(
        StoreCreditEntry.store_id == store_id, StoreCreditEntry.customer_id == customer_id
    )
    return await fetch_page(session, query, StoreCreditEntry, limit, cursor)


def _account(store_id: str, customer_id: str, currency: str) -> tuple[Any, ...]:
    return (
        StoreCreditAccount.store_id == store_id,
        StoreCreditAccount.customer_id == customer_id,
        StoreCreditAccount.currency == currency,
    )


async def credit_balance(
    session: AsyncSession, store_id: str, customer_id: str, currency: str
) -> int:
    query = select(StoreCreditAccount.balance).where(*_account(store_id, customer_id, currency))
    return await session.scalar(query) or 0


async def draw_for_order(
    session: AsyncSession,
    store_id: str,
    customer_id: str,
    currency: str,
    amount: int,
    order_id: str,
) -> None:
    """Draw the whole amount or fail: one conditional UPDATE, so of concurrent checkouts only as
    many as the balance covers succeed, and a loser knows (409) instead of paying less."""
    if amount == 0:
        return
    balance = await session.scalar(
        update(StoreCreditAccount)
        .where(*_account(store_id, customer_id, currency), StoreCreditAccount.balance >= amount)
        .values(balance=StoreCreditAccount.balance - amount)
        .returning(StoreCreditAccount.balance)
    )
    if balance is None:
        raise StoreCreditInsufficient(
            f"the customer's store credit does not cover {amount}",
            details={"field": "store_credit", "currency": currency},
        )
    session.add(_entry(store_id, customer_id, currency, -amount, balance, "checkout", order_id))
    await session.flush()


async def release_for_order(session: AsyncSession, store_id: str, order_id: str) -> None:
    """Credit back what the order drew. The caller makes sure this runs once per order."""
    draws = await session.execute(
        select(StoreCreditEntry.customer_id, StoreCreditEntry.currency, StoreCreditEntry.amount)
        .where(
            StoreCreditEntry.store_id == store_id,
            StoreCreditEntry.order_id == order_id,
            StoreCreditEntry.amount < 0,
        )
        .order_by(StoreCreditEntry.customer_id, StoreCreditEntry.currency)
    )
    for customer_id, currency, amount in draws.tuples():
        balance = await session.scalar(
            update(StoreCreditAccount)
            .where(*_account(store_id, customer_id, currency))
            .values(balance=StoreCreditAccount.balance - amount)
            .returning(StoreCreditAccount.balance)
        )
        assert balance is not None
        reason = "order cancelled or refunded"
        session.add(_entry(store_id, customer_id, currency, -amount, balance, reason, order_id))
    await session.flush()


def _entry(
    store_id: str,
    customer_id: str,
    currency: str,
    amount: int,
    balance: int,
    reason: str,
    order_id: str | None,
) -> StoreCreditEntry:
    """A line of the ledger: a grant or debit by staff, a checkout's draw or its give-back."""
    return StoreCreditEntry(
        id=new_id("scr"),
        store_id=store_id,
        customer_id=customer_id,
        currency=currency,
        amount=amount,
        balance_after=balance,
        reason=reason,
        order_id=order_id,
        created_at=datetime.now(UTC),
    )
