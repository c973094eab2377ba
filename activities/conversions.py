"""The activity of a conversion run: one attempt to send an order's conversion (or adjustment)
to its network. Read and decide in one transaction, call the network outside any, record the
answer in another (services/channels/conversions.py holds the rules). A retryable answer is
raised, so the run's retry policy tries again with backoff."""

from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.database import SessionMaker
from services.channels.connections import ChannelKeys
from services.channels.conversions import Attempt, Status, give_up, prepare_attempt, record_answer
from services.channels.conversions import send as send_attempt


@dataclass
class ConversionRequest:
    store_id: str
    row_id: str


@dataclass
class GiveUp:
    store_id: str
    row_id: str
    reason: str


class ConversionActivities:
    def __init__(self, sessionmaker: SessionMaker, keys: ChannelKeys, timeout: float) -> None:
        self._sessionmaker = sessionmaker
        self._keys = keys
        self._timeout = timeout

    @activity.defn
    async def send_conversion(self, req: ConversionRequest) -> str:
        """`sent` or `refused`; raises while the network should be asked again."""
        async with self._sessionmaker.begin() as session:
            now = datetime.now(UTC)  # the network's clock, not the run's
            prepared = await prepare_attempt(session, req.store_id, req.row_id, self._keys, now)
        if isinstance(prepared, Status):
            if prepared == Status.RETRYING:
                raise ApplicationError("waiting for the conversion it adjusts")
            return str(prepared)
        status = await self._send(req, prepared)
        if status == Status.RETRYING:
            raise ApplicationError("the network did not take it yet: trying again")
        return str(status)

    async def _send(self, req: ConversionRequest, attempt: Attempt) -> Status:
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
            answer = await send_attempt(attempt, self._keys, client)
        async with self._sessionmaker.begin() as session:
            return await record_answer(session, req.store_id, req.row_id, answer)

    @activity.defn
    async def give_up_conversion(self, req: GiveUp) -> None:
        async with self._sessionmaker.begin() as session:
            await give_up(session, req.store_id, req.row_id, req.reason)
