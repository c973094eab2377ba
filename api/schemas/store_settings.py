"""Store settings as the API shows them: the current values and the audit list of changes."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SettingsChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    key_id: str | None = Field(description="The API key that made the change")
    changes: dict[str, Any] = Field(description='Per field: {"from": ..., "to": ...}')
    created_at: datetime
