"""Single impressions and clicks that arrive together are counted together: each request waits
for the statement that counts its event, and the requests that came in while one statement ran
go in the next one (group commit). A request's 202 still means its event is stored; a quiet
api runs each event's statements at once, as before; a busy one runs a few statements for many
events instead of a few for each (docs/ads.md)."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from models.database import Statements
from services.ads.events import record_events

Outcome = tuple[bool, str | None]
# The beacon's limit: a statement's token list stays as short as a batch request's.
MOST_AT_ONCE = 100


@dataclass(slots=True)
class _Waiting:
    store_id: str
    event: tuple[str, str]  # (token, kind)
    answer: asyncio.Future[Outcome]


class AdEventBatches:
    """One per process (the api's lifespan makes it). Events are grouped by store: a
    statement only ever names one store's tokens, so a token of another store is unknown in
    it, as in a request of its own."""

    def __init__(self, db: Statements) -> None:
        self._db = db
        self._queue: list[_Waiting] = []
        self._flusher: asyncio.Task[None] | None = None

    async def record(self, store_id: str, token: str, kind: str) -> Outcome:
        """(counted, error code) for one event, as `record_events` says it."""
        answer: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append(_Waiting(store_id, (token, kind), answer))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        # A caller that goes away (a closed connection) cancels only its wait: its event stays
        # in the batch and is counted all the same, as a request cancelled after its commit.
        return await answer

    async def _flush(self) -> None:
        try:
            while self._queue:
                taken, self._queue = self._queue, []
                by_store: dict[str, list[_Waiting]] = {}
                for waiting in taken:
                    by_store.setdefault(waiting.store_id, []).append(waiting)
                for store_id, group in by_store.items():
                    for start in range(0, len(group), MOST_AT_ONCE):
                        await self._count(store_id, group[start : start + MOST_AT_ONCE])
        finally:
            self._flusher = None

    async def _count(self, store_id: str, group: Sequence[_Waiting]) -> None:
        try:
            outcomes = await record_events(self._db, store_id, [w.event for w in group])
        except Exception as exc:  # each waiting request answers with the statement's error
            for waiting in group:
                if not waiting.answer.done():
                    waiting.answer.set_exception(exc)
            return
        for waiting, outcome in zip(group, outcomes, strict=True):
            if not waiting.answer.done():
                waiting.answer.set_result(outcome)
