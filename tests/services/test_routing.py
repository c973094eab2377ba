"""The relay's routing rules: coalescing, which runs an event reaches, when a run starts."""

from typing import Any

from flow_contract import CartActivity, FlowConfig, FlowKind, ProductView
from services.events.routing import EventRow, Operation, RoutingContext, plan_operations
from services.messaging.flow_config import default_flow

CART_FLOW = default_flow(FlowKind.ABANDONED_CART).model_copy(update={"enabled": True})
BROWSE_FLOW = default_flow(FlowKind.BROWSE_REMINDER).model_copy(update={"enabled": True})
RETURN_FLOW = default_flow(FlowKind.RETURN_PURCHASE).model_copy(update={"enabled": True})
ALL = {
    FlowKind.ABANDONED_CART: CART_FLOW,
    FlowKind.BROWSE_REMINDER: BROWSE_FLOW,
    FlowKind.RETURN_PURCHASE: RETURN_FLOW,
}


def cart_event(
    seq: int, cart_id: str = "k1", customer_id: str | None = "c1", qty: int = 1
) -> EventRow:
    data: dict[str, Any] = {
        "cart_id": cart_id,
        "currency": "USD",
        "items": [{"product_id": "p", "quantity": qty, "unit_price": 100}] if qty else [],
    }
    if customer_id:
        data["customer_id"] = customer_id
    return EventRow(seq, "s1", f"e{seq}", "cart.updated", data)


def order_event(seq: int, customer_id: str = "c1", cart_id: str | None = None) -> EventRow:
    data: dict[str, Any] = {"order_id": f"o{seq}", "customer_id": customer_id}
    if cart_id:
        data["cart_id"] = cart_id
    return EventRow(seq, "s1", f"e{seq}", "order.placed", data)


def view_event(seq: int, product_id: str = "p1", customer_id: str = "c1") -> EventRow:
    data = {"customer_id": customer_id, "product_id": product_id}
    return EventRow(seq, "s1", f"e{seq}", "product.viewed", data)


def context(flows: dict[FlowKind, FlowConfig] | None = None, **kw: Any) -> RoutingContext:
    enabled = ALL if flows is None else flows
    return RoutingContext(flows={("s1", k): (3, f) for k, f in enabled.items()}, **kw)


def signals(ops: list[Operation]) -> list[str | None]:
    return [op.signal_name for op in ops]


def test_several_updates_of_one_cart_become_one_signal_with_the_newest_state() -> None:
    plan = plan_operations([cart_event(1), cart_event(2, qty=3), cart_event(3, qty=5)], context())
    assert list(plan) == ["cart:s1:k1"]
    (op,) = plan["cart:s1:k1"]
    assert op.signal == CartActivity(event_id="e3", seq=3, item_count=5, customer_id="c1")
    assert op.start is not None and (op.start.kind, op.start.flow_version) == ("abandoned_cart", 3)


def test_carts_of_a_batch_are_planned_separately() -> None:
    plan = plan_operations([cart_event(1, "a"), cart_event(2, "b")], context())
    assert sorted(plan) == ["cart:s1:a", "cart:s1:b"]


def test_an_order_reaches_open_runs_of_the_customer_and_runs_started_in_the_batch() -> None:
    ctx = context(open_runs={("s1", "c1"): ["cart:s1:old", "browse:s1:c1"]})
    plan = plan_operations([cart_event(1, "new"), order_event(2)], ctx)
    assert signals(plan["cart:s1:new"]) == ["cart_updated", "order_placed"]
    assert signals(plan["cart:s1:old"]) == ["order_placed"]
    assert signals(plan["browse:s1:c1"]) == ["cart_updated", "order_placed"]
    (start,) = plan["return:s1:o2"]
    assert start.signal is None and start.start is not None and start.start.order_id == "o2"


def test_an_order_names_its_cart_even_without_a_known_run() -> None:
    plan = plan_operations([order_event(1, customer_id="c9", cart_id="k7")], context(flows={}))
    assert list(plan) == ["cart:s1:k7"]


def test_an_order_for_another_customer_reaches_nothing_else() -> None:
    ctx = context(flows={}, open_runs={("s1", "c1"): ["cart:s1:k1"]})
    assert plan_operations([order_event(1, customer_id="c2")], ctx) == {}


def test_no_run_starts_without_items_customer_or_an_enabled_flow() -> None:
    cleared = plan_operations([cart_event(1, qty=0)], context())["cart:s1:k1"][0]
    anonymous = plan_operations([cart_event(1, customer_id=None)], context())["cart:s1:k1"][0]
    disabled = plan_operations([cart_event(1)], context(flows={}))["cart:s1:k1"][0]
    for op in (cleared, anonymous, disabled):
        assert op.signal_name == "cart_updated" and op.start is None


def test_a_cart_whose_customer_is_known_from_earlier_events_starts_a_run() -> None:
    ctx = context(cart_customers={("s1", "k1"): "c1"})
    (op,) = plan_operations([cart_event(1, customer_id=None)], ctx)["cart:s1:k1"]
    assert op.start is not None and op.start.customer_id == "c1"


def test_product_views_of_a_customer_coalesce_into_the_newest() -> None:
    plan = plan_operations([view_event(1, "p1"), view_event(2, "p2")], context())
    (op,) = plan["browse:s1:c1"]
    assert isinstance(op.signal, ProductView) and op.signal.product_id == "p2"
    assert op.start is not None and op.start.product_id == "p2"


def test_add_to_cart_reaches_the_browse_run_started_in_the_same_batch() -> None:
    plan = plan_operations([view_event(1), cart_event(2)], context())
    assert signals(plan["browse:s1:c1"]) == ["product_viewed", "cart_updated"]


def test_erasure_reaches_every_open_run_of_the_customer() -> None:
    ctx = context(open_runs={("s1", "c1"): ["cart:s1:k1", "return:s1:o1"]})
    event = EventRow(1, "s1", "e1", "customer.erased", {"customer_id": "c1"})
    plan = plan_operations([event], ctx)
    assert sorted(plan) == ["cart:s1:k1", "return:s1:o1"]
    assert all(signals(ops) == ["customer_erased"] for ops in plan.values())


def test_other_event_types_need_no_operation() -> None:
    events = [EventRow(1, "s1", "e1", "customer.upserted", {"customer_id": "c1"})]
    assert plan_operations(events, context()) == {}


def test_an_order_with_a_live_referral_code_starts_its_referral_run_only() -> None:
    coded = order_event(1, customer_id="bob")
    coded.data["discount_codes"] = ["summer", " refabc "]
    other = order_event(2, customer_id="bob")
    other.data["attribution"] = {"referral_code": "REFGONE"}  # not a live code
    plan = plan_operations([coded, other], context({}, referral_codes={("s1", "REFABC")}))
    assert list(plan) == ["referral:s1:o1"]
    (op,) = plan["referral:s1:o1"]
    assert op.program is not None and op.start is None and op.signal is None
    assert (op.program.kind, op.program.order_id, op.program.code) == ("referral", "o1", "REFABC")
    assert op.program.customer_id == "bob"
