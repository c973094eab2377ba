"""Bodies of the store-provisioning endpoints."""

from typing import Literal

from pydantic import BaseModel, Field


class StoreCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["USD"])
    timezone: str = Field(examples=["America/New_York"])


class KeyOut(BaseModel):
    id: str
    kind: str
    key: str = Field(description="Shown once: only its hash is stored.")


class StoreOut(BaseModel):
    id: str
    name: str
    currency: str
    timezone: str
    keys: list[KeyOut]


class KeyCreate(BaseModel):
    kind: Literal["secret", "publishable"] = "secret"
