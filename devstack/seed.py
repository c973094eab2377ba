"""The demo store `make dev` creates on its first start, with an abandoned-cart flow whose delays
are short enough to watch; its keys are kept in a dev-only file so later starts can show them."""

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from flow_contract import FlowConfig, FlowStep, Template
from models import Store
from models.database import SessionMaker
from services.messaging.flows import save_flow
from services.stores.service import create_store

DEMO_STORE_NAME = "Demo Store"
DEMO_CURRENCY = "USD"
DEMO_TIMEZONE = "America/New_York"


@dataclass(frozen=True)
class DemoStore:
    store_id: str
    name: str
    secret_key: str
    publishable_key: str
    created: bool = False  # true on the start that created it


def demo_abandoned_cart_flow() -> FlowConfig:
    """One minute of cart inactivity, an email at once, then an SMS two minutes later."""
    return FlowConfig(
        enabled=True,
        trigger_delay_seconds=60,
        steps=[
            FlowStep(
                delay_seconds=0,
                channel="email",
                template=Template(
                    subject="You left something in your cart",
                    body="Hi {{ customer.first_name or 'there' }}, your cart is waiting: "
                    "{{ link }}",
                ),
            ),
            FlowStep(
                delay_seconds=120,
                channel="sms",
                template=Template(body="Your cart is still waiting: {{ link }}"),
            ),
        ],
    )


def read_demo_store(path: Path) -> DemoStore | None:
    try:
        raw = json.loads(path.read_text())
        return DemoStore(
            store_id=raw["store_id"],
            name=raw["name"],
            secret_key=raw["secret_key"],
            publishable_key=raw["publishable_key"],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_demo_store(path: Path, demo: DemoStore) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {k: v for k, v in asdict(demo).items() if k != "created"}
    tmp = path.with_suffix(".tmp")
    # The file holds a live secret key: readable by its owner only.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(body, out, indent=2)
    tmp.replace(path)


async def ensure_demo_store(sessionmaker: SessionMaker, path: Path) -> DemoStore:
    """The demo store named in `path` if the database still has it, else a new one (with the demo
    abandoned-cart flow) whose keys are written to `path`."""
    known = read_demo_store(path)
    async with sessionmaker.begin() as session:
        if known and await session.get(Store, known.store_id) is not None:
            return known
        store, keys = await create_store(
            session, name=DEMO_STORE_NAME, currency=DEMO_CURRENCY, timezone=DEMO_TIMEZONE
        )
        await save_flow(session, store.id, "abandoned_cart", demo_abandoned_cart_flow())
    by_kind = {key.kind: key.key for key in keys}
    demo = DemoStore(
        store_id=store.id,
        name=store.name,
        secret_key=by_kind["secret"],
        publishable_key=by_kind["publishable"],
        created=True,
    )
    # Written only after the commit, so the file never names a store that does not exist.
    write_demo_store(path, demo)
    return demo
