"""The activity of `WebhookDeliveryWorkflow`: one attempt at one delivery. It opens its own
transactions around the services' work; the HTTP call is made between them, holding no lock."""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

import httpx
from temporalio import activity

from integrations.webhooks import AddressRefused, post_webhook
from models.database import SessionMaker
from services.growth.webhook_delivery import (
    PreparedAttempt,
    address_rule,
    prepare_attempt,
    record_attempt,
)

log = logging.getLogger("shopstar.webhooks")


@dataclass
class DeliveryAttempt:
    store_id: str
    delivery_id: str
    # When the next attempt would be; None: this is the last one (the 24 h are over).
    retry_at: datetime | None


@dataclass
class AttemptOutcome:
    status: str  # pending | delivered | failed


class WebhookActivities:
    def __init__(
        self, sessionmaker: SessionMaker, *, secret_key: str, local_allowed: bool, timeout: float
    ) -> None:
        self._sessionmaker = sessionmaker
        self._secret_key = secret_key
        self._allowed = address_rule(local_allowed)
        self._timeout = timeout

    async def _send(self, prepared: PreparedAttempt) -> tuple[int | None, str | None]:
        """The receiver's status code, or the reason there was none."""
        try:
            status = await post_webhook(
                prepared.url,
                prepared.body,
                prepared.headers(int(time.time())),
                address_allowed=self._allowed,
                timeout_seconds=self._timeout,
            )
        except AddressRefused as exc:
            return None, str(exc)
        except (httpx.HTTPError, OSError, TimeoutError) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return status, None if 200 <= status < 300 else f"HTTP {status}"

    @activity.defn
    async def attempt_webhook_delivery(self, req: DeliveryAttempt) -> AttemptOutcome:
        try:
            async with self._sessionmaker.begin() as session:
                prepared = await prepare_attempt(
                    session, req.store_id, req.delivery_id, self._secret_key
                )
        except LookupError:  # the store is gone, and its deliveries with it
            return AttemptOutcome(status="failed")
        if not isinstance(prepared, PreparedAttempt):
            return AttemptOutcome(status=prepared)
        status_code, error = await self._send(prepared)
        async with self._sessionmaker.begin() as session:
            status = await record_attempt(
                session,
                req.store_id,
                req.delivery_id,
                status_code=status_code,
                error=error,
                retry_at=req.retry_at,
            )
        log.info(
            "webhook attempt",
            extra={"delivery_id": req.delivery_id, "status_code": status_code, "status": status},
        )
        return AttemptOutcome(status=status)
