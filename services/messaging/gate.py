"""The send gate: right before a step goes out, re-check the store's data and say why not, or
until when to hold it (quiet hours), or that it goes: then with the rows the send renders from
and the promo code the step gives, issued here. Every "no" is decided here, and only here."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import FlowKind, GateReason, MessageStatus, StepRequest
from models import Order
from models.database import SessionStatements
from services.messaging.content import CatalogProduct, read_products, step_products
from services.messaging.holdout import in_holdout
from services.messaging.log import StepMessage
from services.messaging.promo_codes import issue_code
from services.messaging.quiet_hours import quiet_until
from services.messaging.step_facts import (
    Facts,
    StepCart,
    StepCustomer,
    StepStore,
    ordered_since,
)
from services.stores.settings import store_quiet_hours


@dataclass(frozen=True)
class StepRows:
    """What the send is given: the rows the gate read and decided on."""

    customer: StepCustomer
    store: StepStore | None
    cart: StepCart | None
    # The step's message-log row, once `decide_step` has written (or found) it.
    message: StepMessage | None = None
    # The catalog's rows of the step's products, as the gate read them (None: not read).
    products: Mapping[str, CatalogProduct] | None = None


@dataclass(frozen=True)
class GateVerdict:
    reason: GateReason | None = None
    hold_until: datetime | None = None
    # Set when the step goes out (no reason, no hold).
    rows: StepRows | None = None
    promo_code: str | None = None


async def check_send_gate(session: AsyncSession, gate: StepRequest, facts: Facts) -> GateVerdict:
    """Suppress with a reason, hold until a time, or send (with `rows`), from the step's facts
    (`read_facts`). A step that names a promo-code rule takes its code here, in the caller's
    transaction: no code left is the last reason to say no, and the send never has to decide it
    again."""
    customer, cart, store, switched_off = (
        facts.customer,
        facts.cart,
        facts.store,
        facts.switched_off,
    )
    if customer is not None and customer.erased_at is not None:
        return GateVerdict(GateReason.ERASED)
    reason = await _flow_reason(session, gate, cart, facts.ordered_since_start)
    if reason is None and switched_off:
        reason = GateReason.FLOW_DISABLED
    if reason is None and (customer is None or not getattr(customer, gate.channel.contact_field)):
        reason = GateReason.NO_CONTACT
    if reason is None and not getattr(customer, f"consent_{gate.channel}"):
        reason = GateReason.NO_CONSENT
    products: dict[str, CatalogProduct] = {}
    if reason is None:
        reason, products = await _product_reason(session, gate, cart)
    if reason is None:
        reason = await _frequency_reason(session, gate)
    if reason is not None:
        return GateVerdict(reason)
    assert customer is not None
    hold_until = _quiet_hours(gate, customer, store)
    if hold_until is not None:
        return GateVerdict(hold_until=hold_until)  # no code taken for a step that waits
    # Asked last, where the step would go out (quiet hours waited through, as a treated run
    # would): a holdout row stands for exactly one message the holdout kept back, and no code.
    if in_holdout(gate.store_id, gate.flow, gate.customer_id, gate.flow_config.holdout_percent):
        return GateVerdict(GateReason.HOLDOUT)
    code = None
    if rule_id := gate.flow_config.steps[gate.step].promo_code_rule_id:
        code = await issue_code(session, gate.store_id, rule_id, customer.customer_id)
        if code is None:
            return GateVerdict(GateReason.NO_PROMO_CODE)
    return GateVerdict(rows=StepRows(customer, store, cart, products=products), promo_code=code)


async def _flow_reason(
    session: AsyncSession, gate: StepRequest, cart: StepCart | None, ordered_since_start: bool
) -> GateReason | None:
    """What ends the run: the customer bought, the cart was cleared, the order was cancelled.
    The customer bought: this cart was ordered, or any order of theirs came since the run
    started (another cart, a browse turned purchase). The order signal ends the run too; this
    catches an order the relay has not delivered yet."""
    if gate.flow == FlowKind.RETURN_PURCHASE:
        order = await session.get(Order, (gate.store_id, gate.order_id))
        if order is not None and order.status in ("cancelled", "refunded"):
            return GateReason.ORDER_CANCELLED
        return None
    if (cart is not None and cart.ordered_at is not None) or ordered_since_start:
        return GateReason.CONVERTED
    if cart is not None and not cart.items:
        return GateReason.CART_EMPTY
    return None


async def _product_reason(
    session: AsyncSession, gate: StepRequest, cart: StepCart | None
) -> tuple[GateReason | None, dict[str, CatalogProduct]]:
    """The cart's products (all of them) or the viewed product can no longer be bought, and
    the catalog's rows of them (the message shows them). A product the catalog mirror has not
    heard of counts as available."""
    wanted = step_products(cart, gate.product_id)
    products = await read_products(SessionStatements(session), gate.store_id, wanted)
    gone = sum(not p.buyable for p in products.values())
    return (GateReason.PRODUCT_UNAVAILABLE if wanted and gone >= len(wanted) else None), products


async def _frequency_reason(session: AsyncSession, gate: StepRequest) -> GateReason | None:
    now = datetime.now(UTC)
    windows = gate.flow_config.suppression
    order_since = now - timedelta(seconds=windows.recent_order_window_seconds)
    if gate.flow == FlowKind.RETURN_PURCHASE:
        # The customer already came back after this order: the incentive is moot.
        this = await session.get(Order, (gate.store_id, gate.order_id))
        order_since = (
            max(order_since, this.placed_at + timedelta(microseconds=1)) if this else order_since
        )
    if windows.recent_order_window_seconds and await _ordered_since(session, gate, order_since):
        return GateReason.RECENT_ORDER
    message_since = now - timedelta(seconds=windows.similar_message_window_seconds)
    if windows.similar_message_window_seconds and await _similar_message_since(
        session, gate, message_since
    ):
        return GateReason.RECENT_SIMILAR_MESSAGE
    return None


def _quiet_hours(
    gate: StepRequest, customer: StepCustomer, store: StepStore | None
) -> datetime | None:
    """The flow's quiet hours, else the store's default ones."""
    quiet = gate.flow_config.quiet_hours or store_quiet_hours(store)
    if quiet is None:
        return None
    timezone = customer.timezone or (store.timezone if store else "UTC")
    return quiet_until(gate.now or datetime.now(UTC), timezone, quiet.start, quiet.end)


# As driver text (models.database.SessionStatements), like the step's other statements.
_ORDERED_SINCE = f"SELECT {ordered_since('%(since)s')}"
# `unknown`: the provider may have taken it, so it counts against the cap.
_SIMILAR_MESSAGE_SINCE = f"""
    SELECT EXISTS (
        SELECT 1 FROM messages m
        WHERE m.store_id = %(store_id)s AND m.customer_id = %(customer_id)s
          AND m.flow = %(flow)s
          AND m.status IN ('{MessageStatus.UNKNOWN}', '{MessageStatus.SENT}',
                           '{MessageStatus.DELIVERED}')
          AND m.sent_at >= %(since)s AND m.idempotency_key NOT LIKE %(own_run)s)
"""


async def _exists(session: AsyncSession, sql: str, params: Mapping[str, object]) -> bool:
    row = await SessionStatements(session).first(sql, params)
    return bool(row and row[0])


async def _ordered_since(session: AsyncSession, gate: StepRequest, since: datetime) -> bool:
    if gate.customer_id is None:
        return False
    params = {
        "store_id": gate.store_id,
        "customer_id": gate.customer_id,
        "order_id": gate.order_id or "",
        "since": since,
    }
    return await _exists(session, _ORDERED_SINCE, params)


async def _similar_message_since(session: AsyncSession, gate: StepRequest, since: datetime) -> bool:
    """A message of the same flow went to this customer from another run within the window."""
    params = {
        "store_id": gate.store_id,
        "customer_id": gate.customer_id,
        "flow": gate.flow,
        "since": since,
        "own_run": f"{gate.workflow_id}:{gate.run_key}:%",
    }
    return await _exists(session, _SIMILAR_MESSAGE_SINCE, params)
