"""Kill the worker process again and again while many runs are between and inside their steps:
after a restart every step reaches the fake providers exactly once, and none is lost."""

import asyncio
import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from devstack.fake_providers import FakeProviders
from devstack.temporal import TemporalDevServer, free_port
from models import Message, RecoveryRun
from models.database import SessionMaker
from tests.conftest import StoreKeys, event
from tests.workflows.journey import cart, enable_flow, post, product

ROOT = Path(__file__).resolve().parents[2]
CARTS = 20
FLOW = {
    "enabled": True,
    "trigger_delay_seconds": 1,
    "steps": [
        {
            "delay_seconds": 0,
            "channel": "email",
            "template": {"subject": "Cart", "body": "{{ link }}"},
        },
        {"delay_seconds": 2, "channel": "sms", "template": {"body": "Still there? {{ link }}"}},
        {
            "delay_seconds": 2,
            "channel": "email",
            "template": {"subject": "Last call", "body": "{{ link }}"},
        },
    ],
    "suppression": {"similar_message_window_seconds": 0, "recent_order_window_seconds": 0},
}


@pytest.fixture
async def dev_server(tmp_path: Path) -> AsyncIterator[TemporalDevServer]:
    server = TemporalDevServer(
        port=free_port(), ui_port=None, db_file=None, log_file=tmp_path / "t.log"
    )
    server.start()
    await server.wait_ready()
    yield server
    server.stop()


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "worker.py")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def closed_runs(sessionmaker: SessionMaker, store_id: str) -> int:
    async with sessionmaker() as session:
        query = select(func.count()).where(
            RecoveryRun.store_id == store_id, RecoveryRun.closed_at.is_not(None)
        )
        return int(await session.scalar(query) or 0)


async def test_killed_workers_send_every_step_exactly_once(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    database_url: str,
    dev_server: TemporalDevServer,
    providers: FakeProviders,
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": dev_server.address,
        "SHOPSTAR_TASK_QUEUE": f"crash-{uuid.uuid4().hex[:8]}",
        "SHOPSTAR_ENVIRONMENT": "test",
        "SHOPSTAR_LOG_LEVEL": "WARNING",
        "SHOPSTAR_RELAY_POLL_SECONDS": "0.2",
        **providers.environment(),
    }
    await enable_flow(api, store, FLOW)
    shoppers = [
        event(
            "customer.upserted",
            {
                "customer_id": f"c_{i}",
                "email": f"s{i}@example.com",
                "phone": f"+1415555{i:04d}",
                "consent": {"email": True, "sms": True},
            },
        )
        for i in range(CARTS)
    ]
    await post(
        api,
        store,
        *shoppers,
        product(),
        *[cart(f"k_{i}", customer_id=f"c_{i}") for i in range(CARTS)],
    )
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    rng = random.Random(7)
    try:
        for _ in range(6):
            await asyncio.sleep(rng.uniform(0.5, 2.0))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            worker = start_worker(env, log)
        for _ in range(3000):  # a deadline for a loaded machine, not a timing check
            if await closed_runs(sessionmaker, store.id) == CARTS:
                break
            await asyncio.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert await closed_runs(sessionmaker, store.id) == CARTS, log.read_text()[-3000:]
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(Message.id, Message.status).where(Message.store_id == store.id)
            )
        ).all()
    assert len(rows) == 3 * CARTS and {status for _, status in rows} == {"sent"}
    reached = providers.message_ids()
    ours = {message_id for message_id, _ in rows}
    assert {m: reached[m] for m in ours} == dict.fromkeys(ours, 1)
