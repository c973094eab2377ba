"""Typed inputs of the recovery workflows and the state a run carries over: one dataclass each, so
a field can be added (with a default) without breaking runs in flight. What crosses layers (signal
inputs, the step request and outcome) is in `flow_contract`."""

from dataclasses import dataclass, field
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from flow_contract import FlowPlan


@dataclass
class CartRunState:
    """What a run carries over when it continues as new (every flow kind uses it)."""

    run_key: str
    next_step: int = 0
    last_step_at: datetime | None = None
    last_activity_at: datetime | None = None
    last_seq: int = 0
    seen_event_ids: list[str] = field(default_factory=list)
    customer_id: str | None = None
    sent_steps: int = 0
    last_reason: str | None = None
    product_id: str | None = None


RunState = CartRunState


@dataclass
class AbandonedCartInput:
    store_id: str
    cart_id: str
    customer_id: str | None
    flow_version: int
    plan: FlowPlan
    state: CartRunState | None = None
    # Continue as new after this many signals in one run even if Temporal does not suggest it
    # yet: a cart edited all day long keeps a short history.
    signals_per_run: int = 500


@dataclass
class BrowseReminderInput:
    store_id: str
    customer_id: str
    product_id: str
    flow_version: int
    plan: FlowPlan
    state: RunState | None = None
    signals_per_run: int = 500


@dataclass
class ReturnPurchaseInput:
    store_id: str
    customer_id: str
    order_id: str
    flow_version: int
    plan: FlowPlan
    state: RunState | None = None
