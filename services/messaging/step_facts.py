"""What a flow step reads before it decides: the store's settings, the customer, the cart, the
step's own message-log row, whether staff switched the flow off and whether the customer
ordered since the run started, in one statement on the driver (plain rows, no ORM objects: the
step runs once for every message, and loading four entities cost the worker more than the
statement itself)."""

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flow_contract import FlowKind, StepRequest
from models.database import Statements
from services.messaging.log import StepMessage


class StepStore(NamedTuple):
    settings: dict[str, Any] | None
    timezone: str


class StepCustomer(NamedTuple):
    customer_id: str
    email: str | None
    phone: str | None
    first_name: str | None
    timezone: str | None
    locale: str | None
    consent_email: bool
    consent_sms: bool
    consent_whatsapp: bool
    erased_at: datetime | None


class StepCart(NamedTuple):
    items: list[dict[str, Any]]
    ordered_at: datetime | None
    subtotal: int
    currency: str


@dataclass(frozen=True)
class Facts:
    customer: StepCustomer | None
    cart: StepCart | None
    store: StepStore | None
    switched_off: bool
    ordered_since_start: bool  # an order of the customer since the run started
    # The step's message-log row, when an earlier attempt of the step wrote it.
    message: StepMessage | None = None


async def read_facts(db: Statements, gate: StepRequest, step_key: str) -> Facts:
    """The step's facts by its idempotency key (`step_key`). Off at any version after the
    pinned one counts, so turning the flow back on affects new runs only."""
    sql = _facts_sql(
        gate.customer_id is not None,
        gate.cart_id is not None,
        gate.customer_id is not None and gate.flow != FlowKind.RETURN_PURCHASE,
    )
    params = {
        "store_id": gate.store_id,
        "customer_id": gate.customer_id,
        "cart_id": gate.cart_id,
        "flow": gate.flow,
        "flow_version": gate.flow_version,
        "workflow_id": gate.workflow_id,
        "order_id": gate.order_id or "",
        "step_key": step_key,
    }
    row = await db.first(sql, params)
    if row is None:
        return Facts(None, None, None, False, False)
    store = StepStore(*row[0:2])
    customer = StepCustomer(*row[2:12]) if row[2] is not None else None
    cart = StepCart(*row[13:17]) if row[12] is not None else None
    message = StepMessage(*row[17:23]) if row[17] is not None else None
    return Facts(customer, cart, store, bool(row[23]), bool(row[24]), message)


def ordered_since(since: str) -> str:
    """SQL: an order of the step's customer placed at or after `since` (an SQL expression),
    other than the step's own order. The facts ask it since the run started; the gate's
    recent-order cap, since its window's start."""
    return f"""EXISTS (
        SELECT 1 FROM orders o
        WHERE o.store_id = %(store_id)s AND o.customer_id = %(customer_id)s
          AND o.placed_at >= {since}
          AND o.status != 'cancelled' AND o.order_id != %(order_id)s)"""


_RUN_STARTED = """(
    SELECT r.started_at FROM recovery_runs r
    WHERE r.store_id = %(store_id)s AND r.workflow_id = %(workflow_id)s)"""


@functools.cache
def _facts_sql(customer: bool, cart: bool, orders: bool) -> str:
    """`read_facts`'s statement for a step with (or without) a customer, a cart, and orders
    that end it; built once per shape."""
    customer_on = "c.store_id = s.id AND c.customer_id = %(customer_id)s" if customer else "false"
    cart_on = "k.store_id = s.id AND k.cart_id = %(cart_id)s" if cart else "false"
    return f"""
        SELECT s.settings, s.timezone,
            c.customer_id, c.email, c.phone, c.first_name, c.timezone, c.locale,
            c.consent_email, c.consent_sms, c.consent_whatsapp, c.erased_at,
            k.cart_id, k.items, k.ordered_at, k.subtotal, k.currency,
            m.id, m.status, m.suppression_reason, m.promo_code, m.failure_code,
            m.send_started_at,
            EXISTS (
                SELECT 1 FROM flow_versions v
                WHERE v.store_id = %(store_id)s AND v.kind = %(flow)s
                  AND v.version > %(flow_version)s
                  AND CAST((v.config ->> 'enabled') AS BOOLEAN) IS false),
            {ordered_since(_RUN_STARTED) if orders else "false"}
        FROM stores s
        LEFT JOIN customers c ON {customer_on}
        LEFT JOIN carts k ON {cart_on}
        LEFT JOIN messages m ON m.store_id = s.id AND m.idempotency_key = %(step_key)s
        WHERE s.id = %(store_id)s
    """
