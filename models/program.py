"""A store's settings of a growth program (referral, sharing): one JSON document per kind,
validated by the program's service on the way in."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class ProgramConfig(Base):
    __tablename__ = "program_configs"

    store_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime]
