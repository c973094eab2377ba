"""Single ad events counted together (services/ads/event_batches.py): a statement that fails
fails the requests whose events it carried, and the events that come after are counted."""

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from services.ads.event_batches import AdEventBatches


class FlakyStatements:
    """Impressions: counts every token the first time it is named; the first statement fails."""

    def __init__(self) -> None:
        self.statements: list[list[str]] = []
        self.seen: set[str] = set()

    async def first(self, sql: str, params: Mapping[str, Any]) -> Sequence[Any] | None:
        raise NotImplementedError

    async def all(self, sql: str, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        await asyncio.sleep(0)  # a round trip: the others queue meanwhile
        tokens = list(params["tokens"])
        self.statements.append(tokens)
        if len(self.statements) == 1:
            raise ConnectionError("the database went away")
        rows = [(t, t not in self.seen, True) for t in tokens]
        self.seen |= set(tokens)
        return rows


async def test_a_failed_statement_fails_its_own_requests_and_the_next_ones_count() -> None:
    db = FlakyStatements()
    batches = AdEventBatches(db)
    first = asyncio.create_task(batches.record("s1", "t0", "impression"))
    await asyncio.sleep(0)  # the first statement is under way; these wait for the next one
    rest = [asyncio.create_task(batches.record("s1", f"t{i}", "impression")) for i in range(1, 6)]
    with pytest.raises(ConnectionError):
        await first
    assert await asyncio.gather(*rest) == [(True, None)] * 5
    # Five requests, one statement: they came in while the failed one ran.
    assert db.statements[1:] == [["t1", "t2", "t3", "t4", "t5"]]
    assert await batches.record("s1", "t0", "impression") == (True, None)
