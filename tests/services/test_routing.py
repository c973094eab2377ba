"""The relay's routing rules: coalescing, which runs an order reaches, when a run starts."""

from services.flow_config import FlowConfig, default_flow
from services.routing import CartSignal, EventRow, OrderSignal, RoutingContext, plan_operations

FLOW = default_flow("abandoned_cart").model_copy(update={"enabled": True})


def cart_event(
    seq: int, cart_id: str = "k1", customer_id: str | None = "c1", qty: int = 1
) -> EventRow:
    data: dict[str, object] = {
        "cart_id": cart_id,
        "currency": "USD",
        "items": [{"product_id": "p", "quantity": qty, "unit_price": 100}] if qty else [],
    }
    if customer_id:
        data["customer_id"] = customer_id
    return EventRow(seq, "s1", f"e{seq}", "cart.updated", data)


def order_event(seq: int, customer_id: str = "c1", cart_id: str | None = None) -> EventRow:
    data: dict[str, object] = {"order_id": f"o{seq}", "customer_id": customer_id}
    if cart_id:
        data["cart_id"] = cart_id
    return EventRow(seq, "s1", f"e{seq}", "order.placed", data)


def context(flow: FlowConfig | None = FLOW, **kw: object) -> RoutingContext:
    return RoutingContext(cart_flows={"s1": (3, flow)} if flow else {}, **kw)  # type: ignore[arg-type]


def test_several_updates_of_one_cart_become_one_signal_with_the_newest_state() -> None:
    plan = plan_operations([cart_event(1), cart_event(2, qty=3), cart_event(3, qty=5)], context())
    assert list(plan) == ["cart:s1:k1"]
    (op,) = plan["cart:s1:k1"]
    assert isinstance(op, CartSignal)
    assert (op.seq, op.event_id, op.item_count, op.start_flow) == (3, "e3", 5, (3, FLOW))


def test_carts_of_a_batch_are_planned_separately() -> None:
    plan = plan_operations([cart_event(1, "a"), cart_event(2, "b")], context())
    assert sorted(plan) == ["cart:s1:a", "cart:s1:b"]


def test_an_order_reaches_open_runs_of_the_customer_and_runs_started_in_the_batch() -> None:
    ctx = context(open_runs={("s1", "c1"): ["cart:s1:old"]})
    plan = plan_operations([cart_event(1, "new"), order_event(2)], ctx)
    assert [type(op) for op in plan["cart:s1:new"]] == [CartSignal, OrderSignal]
    assert [type(op) for op in plan["cart:s1:old"]] == [OrderSignal]


def test_an_order_names_its_cart_even_without_a_known_run() -> None:
    plan = plan_operations([order_event(1, customer_id="c9", cart_id="k7")], context())
    assert list(plan) == ["cart:s1:k7"]


def test_an_order_for_another_customer_reaches_nothing_else() -> None:
    ctx = context(open_runs={("s1", "c1"): ["cart:s1:k1"]})
    assert plan_operations([order_event(1, customer_id="c2")], ctx) == {}


def test_no_run_starts_without_items_customer_or_an_enabled_flow() -> None:
    cleared = plan_operations([cart_event(1, qty=0)], context())["cart:s1:k1"][0]
    anonymous = plan_operations([cart_event(1, customer_id=None)], context())["cart:s1:k1"][0]
    disabled = plan_operations([cart_event(1)], context(flow=None))["cart:s1:k1"][0]
    for op in (cleared, anonymous, disabled):
        assert isinstance(op, CartSignal) and op.start_flow is None


def test_a_cart_whose_customer_is_known_from_earlier_events_starts_a_run() -> None:
    ctx = context(cart_customers={("s1", "k1"): "c1"})
    (op,) = plan_operations([cart_event(1, customer_id=None)], ctx)["cart:s1:k1"]
    assert isinstance(op, CartSignal) and op.customer_id == "c1" and op.start_flow is not None


def test_other_event_types_need_no_operation() -> None:
    events = [EventRow(1, "s1", "e1", "customer.upserted", {"customer_id": "c1"})]
    assert plan_operations(events, context()) == {}
