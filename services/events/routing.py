"""The relay's rules, as pure functions: which workflow operations a batch of events needs.
Cart updates of one cart coalesce into one signal with the newest state; so do product views
of one customer.

"Newest" is one rule everywhere, the projection's: the later `occurred_at`, and of two events
that occurred at the same time, the one accepted later (the higher `seq`). A cart update older
than the cart's projection is stale (a newer one was or will be delivered) and signals nothing:
a late, older update must not tell a run the cart is in an older state."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flow_contract import (
    CartActivity,
    CustomerErased,
    FlowConfig,
    FlowKind,
    OrderCompleted,
    ProductView,
    ProgramKind,
    Signal,
)
from services.channels.conversions import ConversionRun
from services.channels.conversions import workflow_id as conversion_workflow_id


def order_codes(data: dict[str, Any]) -> list[str]:
    """The codes an `order.placed` carries that may be referral codes, the attribution's first
    (upper case: codes match as coupon codes do)."""
    attribution = data.get("attribution") or {}
    codes = [attribution.get("referral_code"), *(data.get("discount_codes") or [])]
    return [c.strip().upper() for c in codes if isinstance(c, str) and c.strip()]


CART, BROWSE, RETURN = FlowKind.ABANDONED_CART, FlowKind.BROWSE_REMINDER, FlowKind.RETURN_PURCHASE


@dataclass(frozen=True)
class EventRow:
    seq: int
    store_id: str
    event_id: str
    type: str
    data: dict[str, Any]
    occurred_at: datetime | None = None
    # When the api accepted it (this system's clock): a wait it starts counts from here, however
    # late the relay or a busy worker gets to it.
    received_at: datetime | None = None

    def newer_than(self, other: "EventRow") -> bool:
        if self.occurred_at is None or other.occurred_at is None:
            return self.seq > other.seq
        return (self.occurred_at, self.seq) > (other.occurred_at, other.seq)


@dataclass(frozen=True)
class RunStart:
    """Start the run (with the signal, as signal-with-start, when there is one)."""

    kind: FlowKind
    flow_version: int
    flow: FlowConfig
    customer_id: str | None
    cart_id: str | None = None
    product_id: str | None = None
    order_id: str | None = None


@dataclass(frozen=True)
class ProgramStart:
    """Start a growth program's run: for an order, an affiliate's commission (held
    `holding_days`), a referral (the order carries the referral `code`) or a conversion; for a
    customer, the removal from every audience (`order_id` empty)."""

    kind: ProgramKind
    order_id: str = ""
    customer_id: str | None = None  # None: a run about an order's refund (a conversion's)
    holding_days: int = 0
    code: str | None = None  # a referral's
    # A conversion run: its row (services/channels/conversions.py) and network.
    conversion_id: str | None = None
    network: str | None = None


@dataclass(frozen=True)
class Operation:
    """Signal a run (`start`: starting it first if it is not running), or only start one. The
    relay turns it into the workflow's typed start and signal calls."""

    workflow_id: str
    store_id: str
    kind: FlowKind | ProgramKind  # of the run it reaches
    signal: Signal | None  # the signal's input; None: only start
    start: RunStart | None = None
    program: ProgramStart | None = None  # or start a growth program's run
    seq: int = 0  # the event it comes from

    @property
    def signal_name(self) -> str | None:
        return self.signal.SIGNAL if self.signal is not None else None

    @property
    def name(self) -> str:
        """What staff see: the signal, or `start` for a plain start."""
        if self.start is not None:
            return f"start:{self.signal_name}" if self.signal else "start"
        return self.signal_name or "start"


@dataclass
class RoutingContext:
    """What the rules need from the database, looked up once per batch."""

    flows: dict[tuple[str, FlowKind], tuple[int, FlowConfig]]  # (store, kind) -> enabled flow
    cart_customers: dict[tuple[str, str], str] = field(default_factory=dict)
    open_runs: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    # (store, cart) -> the cart projection's `updated_at` (the newest update it has applied).
    cart_updated_at: dict[tuple[str, str], datetime] = field(default_factory=dict)
    # (store, order) -> holding days, for the orders that earned an affiliate a commission.
    commissions: dict[tuple[str, str], int] = field(default_factory=dict)
    # (store, code) of the live referral codes the batch's orders carry.
    referral_codes: set[tuple[str, str]] = field(default_factory=set)
    # (store, order id) of `order.placed`, (store, event id) of a refund or cancel -> the
    # conversion rows to start a run for.
    conversions: dict[tuple[str, str], list[ConversionRun]] = field(default_factory=dict)
    # (store, customer) uploaded to some audience: withdrawing consent.ads or erasure removes.
    audience_customers: set[tuple[str, str]] = field(default_factory=set)
    now: datetime | None = None  # when the batch is routed

    def waited(self, e: EventRow) -> float:
        """Seconds from the api accepting the event to now (0 when either is unknown)."""
        if self.now is None or e.received_at is None:
            return 0.0
        return max(0.0, (self.now - e.received_at).total_seconds())

    def is_stale(self, e: EventRow) -> bool:
        known = self.cart_updated_at.get((e.store_id, e.data["cart_id"]))
        return known is not None and e.occurred_at is not None and e.occurred_at < known


PREFIX = {CART: "cart", BROWSE: "browse", RETURN: "return"}


def workflow_id(kind: FlowKind, store_id: str, key: str) -> str:
    return f"{PREFIX[kind]}:{store_id}:{key}"


def kind_of(run_id: str) -> FlowKind:
    """The kind of a run, from its id."""
    prefix = run_id.split(":", 1)[0]
    return next(kind for kind, p in PREFIX.items() if p == prefix)


def cart_workflow_id(store_id: str, cart_id: str) -> str:
    return workflow_id(CART, store_id, cart_id)


class _Plan:
    def __init__(self, ctx: RoutingContext) -> None:
        self.ctx = ctx
        self.ops: dict[str, list[Operation]] = {}
        # Runs of a customer known in this batch: the open ones and those the batch starts.
        self.runs: dict[tuple[str, str], set[str]] = {
            key: set(ids) for key, ids in ctx.open_runs.items()
        }

    def add(self, op: Operation) -> None:
        self.ops.setdefault(op.workflow_id, []).append(op)
        if op.start and op.start.customer_id:
            self.runs.setdefault((op.store_id, op.start.customer_id), set()).add(op.workflow_id)

    def customer_runs(self, store_id: str, customer_id: str, prefix: str = "") -> list[str]:
        ids = self.runs.get((store_id, customer_id), set())
        return sorted(i for i in ids if i.startswith(prefix))

    def flow(self, store_id: str, kind: FlowKind) -> tuple[int, FlowConfig] | None:
        return self.ctx.flows.get((store_id, kind))


def plan_operations(events: list[EventRow], ctx: RoutingContext) -> dict[str, list[Operation]]:
    """Operations per workflow id, each list in event order; lists may run concurrently."""
    latest: dict[tuple[str, str, str], EventRow] = {}
    for e in events:
        if e.type == "cart.updated":
            key = (e.type, e.store_id, e.data["cart_id"])
        elif e.type == "product.viewed":
            key = (e.type, e.store_id, e.data["customer_id"])
        else:
            continue
        if key not in latest or e.newer_than(latest[key]):
            latest[key] = e
    plan = _Plan(ctx)
    for e in events:
        if e.type == "cart.updated" and latest[(e.type, e.store_id, e.data["cart_id"])] is e:
            if not ctx.is_stale(e):
                _cart_updated(plan, e)
        elif (
            e.type == "product.viewed" and latest[(e.type, e.store_id, e.data["customer_id"])] is e
        ):
            _product_viewed(plan, e)
        elif e.type == "order.placed":
            _order_placed(plan, e)
        elif e.type in ("order.refunded", "order.cancelled"):
            _conversion_runs(plan, e, plan.ctx.conversions.get((e.store_id, e.event_id), []))
        elif e.type == "customer.erased":
            for run in plan.customer_runs(e.store_id, e.data["customer_id"]):
                erased = CustomerErased(e.event_id)
                plan.add(Operation(run, e.store_id, kind_of(run), erased, seq=e.seq))
        if leaves_audiences(e) and (e.store_id, e.data["customer_id"]) in ctx.audience_customers:
            _audience_removal(plan, e)
    return plan.ops


def leaves_audiences(e: EventRow) -> bool:
    """Erased, or `consent.ads` withdrawn: out of every audience at once, not at the next sync."""
    if e.type == "customer.erased":
        return True
    consent = e.data.get("consent") if e.type == "customer.upserted" else None
    return isinstance(consent, dict) and consent.get("ads") is False


def _audience_removal(plan: _Plan, e: EventRow) -> None:
    """One removal run per event (its seq in the id): a redelivered event finds it started."""
    customer_id = e.data["customer_id"]
    kind = ProgramKind.AUDIENCE_REMOVAL
    removal = ProgramStart(kind, customer_id=customer_id)
    run_id = f"audience-removal:{e.store_id}:{customer_id}:{e.seq}"
    plan.add(Operation(run_id, e.store_id, kind, None, seq=e.seq, program=removal))


def _cart_updated(plan: _Plan, e: EventRow) -> None:
    cart_id = e.data["cart_id"]
    customer_id = e.data.get("customer_id") or plan.ctx.cart_customers.get((e.store_id, cart_id))
    items = e.data.get("items", [])
    payload = CartActivity(
        event_id=e.event_id,
        seq=e.seq,
        item_count=sum(int(i["quantity"]) for i in items),
        customer_id=customer_id,
        waited_seconds=plan.ctx.waited(e),
    )
    flow = plan.flow(e.store_id, CART)
    # Only a cart with items and a known customer is worth a run; anything else only informs a
    # run that may already exist.
    start = (
        RunStart(CART, flow[0], flow[1], customer_id, cart_id=cart_id)
        if items and customer_id and flow
        else None
    )
    run_id = cart_workflow_id(e.store_id, cart_id)
    plan.add(Operation(run_id, e.store_id, CART, payload, start, seq=e.seq))
    if items and customer_id:
        # Adding to the cart ends a browse reminder: the cart's own flow takes over.
        for run in plan.customer_runs(e.store_id, customer_id, "browse:"):
            plan.add(Operation(run, e.store_id, BROWSE, payload, seq=e.seq))


def _product_viewed(plan: _Plan, e: EventRow) -> None:
    customer_id, product_id = e.data["customer_id"], e.data["product_id"]
    flow = plan.flow(e.store_id, BROWSE)
    start = RunStart(BROWSE, flow[0], flow[1], customer_id, product_id=product_id) if flow else None
    payload = ProductView(e.event_id, e.seq, product_id, plan.ctx.waited(e))
    run_id = workflow_id(BROWSE, e.store_id, customer_id)
    plan.add(Operation(run_id, e.store_id, BROWSE, payload, start, seq=e.seq))


def _order_placed(plan: _Plan, e: EventRow) -> None:
    customer_id, order_id = e.data["customer_id"], e.data["order_id"]
    targets = set(plan.customer_runs(e.store_id, customer_id))
    targets = {t for t in targets if not t.startswith("return:")}
    if e.data.get("cart_id"):
        targets.add(cart_workflow_id(e.store_id, e.data["cart_id"]))
    payload = OrderCompleted(event_id=e.event_id, order_id=order_id)
    for run in sorted(targets):
        plan.add(Operation(run, e.store_id, kind_of(run), payload, seq=e.seq))
    if (hold := plan.ctx.commissions.get((e.store_id, order_id))) is not None:
        commission = ProgramStart(ProgramKind.COMMISSION, order_id, customer_id, holding_days=hold)
        run_id = f"commission:{e.store_id}:{order_id}"
        kind = ProgramKind.COMMISSION
        plan.add(Operation(run_id, e.store_id, kind, None, seq=e.seq, program=commission))
    codes = [c for c in order_codes(e.data) if (e.store_id, c) in plan.ctx.referral_codes]
    if codes:
        referral = ProgramStart(ProgramKind.REFERRAL, order_id, customer_id, code=codes[0])
        run_id = f"referral:{e.store_id}:{order_id}"
        kind = ProgramKind.REFERRAL
        plan.add(Operation(run_id, e.store_id, kind, None, program=referral, seq=e.seq))
    _conversion_runs(plan, e, plan.ctx.conversions.get((e.store_id, order_id), []))
    if flow := plan.flow(e.store_id, RETURN):
        start = RunStart(RETURN, flow[0], flow[1], customer_id, order_id=order_id)
        run_id = workflow_id(RETURN, e.store_id, order_id)
        plan.add(Operation(run_id, e.store_id, RETURN, None, start, seq=e.seq))


def _conversion_runs(plan: _Plan, e: EventRow, runs: list[ConversionRun]) -> None:
    """One run per conversion row: per order and network, and per adjustment."""
    for run in runs:
        program = ProgramStart(
            ProgramKind.CONVERSION, run.order_id, conversion_id=run.row_id, network=run.network
        )
        run_id = conversion_workflow_id(e.store_id, run)
        op = Operation(run_id, e.store_id, ProgramKind.CONVERSION, None, seq=e.seq, program=program)
        plan.add(op)
