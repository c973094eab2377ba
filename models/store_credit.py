"""Store credit: a ledger per customer and currency, separate from gift cards."""

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class StoreCreditAccount(Base):
    """The running balance, so a debit is one conditional UPDATE."""

    __tablename__ = "store_credit_accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    store_id: Mapped[str] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger)


class StoreCreditEntry(Timestamped, Base):
    __tablename__ = "store_credit_entries"
    __table_args__ = (
        Index("ix_store_credit_entries_customer", "store_id", "customer_id", "created_at", "id"),
        Index(
            "ix_store_credit_entries_order",
            "store_id",
            "order_id",
            postgresql_where=text("order_id IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    # Set on a checkout's draw and on its release, so a cancelled order finds what to give back.
    order_id: Mapped[str | None] = mapped_column(String(200))
