"""The relay's rules, as pure functions: which workflow operations a batch of events needs.
Cart updates of one cart coalesce into one signal with the newest state."""

from dataclasses import dataclass, field
from typing import Any

from services.flow_config import FlowConfig


@dataclass(frozen=True)
class EventRow:
    seq: int
    store_id: str
    event_id: str
    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class CartSignal:
    """Signal a cart's run; start it first (signal-with-start) when `start_flow` is given."""

    workflow_id: str
    store_id: str
    cart_id: str
    customer_id: str | None
    event_id: str
    seq: int
    item_count: int
    start_flow: tuple[int, FlowConfig] | None


@dataclass(frozen=True)
class OrderSignal:
    workflow_id: str
    event_id: str
    order_id: str


Operation = CartSignal | OrderSignal


@dataclass
class RoutingContext:
    """What the rules need from the database, looked up once per batch."""

    cart_flows: dict[str, tuple[int, FlowConfig]]  # store -> enabled abandoned_cart flow
    cart_customers: dict[tuple[str, str], str] = field(default_factory=dict)
    open_runs: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def cart_workflow_id(store_id: str, cart_id: str) -> str:
    return f"cart:{store_id}:{cart_id}"


def plan_operations(events: list[EventRow], ctx: RoutingContext) -> dict[str, list[Operation]]:
    """Operations per workflow id, each list in event order; lists may run concurrently."""
    latest_cart_seq: dict[tuple[str, str], int] = {}
    for e in events:
        if e.type == "cart.updated":
            latest_cart_seq[(e.store_id, e.data["cart_id"])] = e.seq
    plan: dict[str, list[Operation]] = {}
    started_by_customer: dict[tuple[str, str], set[str]] = {}
    for e in events:
        if e.type == "cart.updated" and latest_cart_seq[(e.store_id, e.data["cart_id"])] == e.seq:
            op = _cart_signal(e, ctx)
            plan.setdefault(op.workflow_id, []).append(op)
            if op.start_flow and op.customer_id:
                started_by_customer.setdefault((e.store_id, op.customer_id), set()).add(
                    op.workflow_id
                )
        elif e.type == "order.placed":
            targets = set(ctx.open_runs.get((e.store_id, e.data["customer_id"]), []))
            targets |= started_by_customer.get((e.store_id, e.data["customer_id"]), set())
            if e.data.get("cart_id"):
                targets.add(cart_workflow_id(e.store_id, e.data["cart_id"]))
            for workflow_id in sorted(targets):
                order = OrderSignal(
                    workflow_id=workflow_id, event_id=e.event_id, order_id=e.data["order_id"]
                )
                plan.setdefault(workflow_id, []).append(order)
    return plan


def _cart_signal(e: EventRow, ctx: RoutingContext) -> CartSignal:
    cart_id = e.data["cart_id"]
    customer_id = e.data.get("customer_id") or ctx.cart_customers.get((e.store_id, cart_id))
    items = e.data.get("items", [])
    flow = ctx.cart_flows.get(e.store_id)
    # Only a cart with items and a known customer is worth a run; anything else only
    # informs a run that may already exist.
    start = flow if (items and customer_id and flow) else None
    return CartSignal(
        workflow_id=cart_workflow_id(e.store_id, cart_id),
        store_id=e.store_id,
        cart_id=cart_id,
        customer_id=customer_id,
        event_id=e.event_id,
        seq=e.seq,
        item_count=sum(int(i["quantity"]) for i in items),
        start_flow=start,
    )
