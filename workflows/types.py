"""Typed inputs of the recovery workflows, their signals and activities: one dataclass each, so a
field can be added (with a default) without breaking runs in flight."""

from dataclasses import dataclass, field
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.messaging.flow_config import FlowConfig

TASK_QUEUE = "shopstar-marketing"
# A flow step is tried this many times (about an hour with its backoff) before it fails.
STEP_MAX_ATTEMPTS = 20
SIGNAL_CART_UPDATED = "cart_updated"
SIGNAL_ORDER_PLACED = "order_placed"
SIGNAL_PRODUCT_VIEWED = "product_viewed"
SIGNAL_ERASED = "customer_erased"


@dataclass
class CartActivity:
    """The cart changed (the newest state of a batch); `item_count` 0 means cleared."""

    event_id: str
    seq: int
    item_count: int
    customer_id: str | None = None


@dataclass
class ProductView:
    event_id: str
    seq: int
    product_id: str


@dataclass
class OrderCompleted:
    event_id: str
    order_id: str


@dataclass
class CustomerErased:
    event_id: str


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
    flow: FlowConfig
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
    flow: FlowConfig
    state: RunState | None = None
    signals_per_run: int = 500


@dataclass
class ReturnPurchaseInput:
    store_id: str
    customer_id: str
    order_id: str
    flow_version: int
    flow: FlowConfig
    state: RunState | None = None


@dataclass
class StepRequest:
    """One step of a run to decide (gate) or to send."""

    store_id: str
    workflow_id: str
    run_key: str
    flow: str
    flow_version: int
    step: int
    customer_id: str | None
    cart_id: str | None
    flow_config: FlowConfig
    product_id: str | None = None
    order_id: str | None = None
    # The run's clock when it asks, for quiet hours (the workflow's time, not the worker's).
    now: datetime | None = None


@dataclass
class GateDecision:
    send: bool
    reason: str | None = None
    # Inside the customer's quiet hours: ask again at this time.
    hold_until: datetime | None = None


@dataclass
class SendResult:
    message_id: str
    status: str


@dataclass
class StepOutcome:
    """What a gated send did: "sent", "held" until `hold_until` (quiet hours), or not sent
    ("suppressed" with the gate's reason, or a final status of an earlier attempt)."""

    status: str
    reason: str | None = None
    hold_until: datetime | None = None
    message_id: str | None = None


@dataclass
class RunClosed:
    store_id: str
    workflow_id: str
    outcome: str
