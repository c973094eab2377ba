"""Gift cards (only a keyed hash of the code is stored) and the movements of their balance."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class GiftCard(Timestamped, Base):
    __tablename__ = "gift_cards"
    __table_args__ = (
        UniqueConstraint("store_id", "code_hash", name="uq_gift_cards_store_code_hash"),
        CheckConstraint("balance >= 0", name="balance_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    last4: Mapped[str] = mapped_column(String(4))
    currency: Mapped[str] = mapped_column(String(3))
    initial_balance: Mapped[int] = mapped_column(BigInteger)
    balance: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime | None]


class GiftCardTransaction(Timestamped, Base):
    """`amount` is signed: + when issued or given back, - when drawn at checkout."""

    __tablename__ = "gift_card_transactions"
    __table_args__ = (
        Index("ix_gift_card_transactions_card", "gift_card_id", "created_at"),
        Index("ix_gift_card_transactions_order", "store_id", "order_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40))
    gift_card_id: Mapped[str] = mapped_column(ForeignKey("gift_cards.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # issue | redemption | release
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[str | None] = mapped_column(String(200))
