"""`price_cart`: the price of a cart under bundles, promotions, coupons and gift cards.

Pure: no I/O. The caller supplies everything (live promotions, validated coupons, catalog prices
of free products, live gift-card balances). The rules and worked examples are in docs/pricing.md.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from services.checkout.pricing.actions import Action, LineSelector, action_effect, action_from_dict
from services.checkout.pricing.bundles import Bundle, bundle_discounts
from services.checkout.pricing.conditions import Condition, condition_from_dict, conditions_hold
from services.checkout.pricing.types import (
    AppliedCoupon,
    Cart,
    CartLine,
    CustomerFacts,
    Discount,
    GiftCardBalance,
    GiftCardUse,
    LineAmount,
    PricedCart,
    RejectedCode,
    Source,
    check_text,
)

NOT_ELIGIBLE = "not_eligible"
DUPLICATE = "duplicate"
CURRENCY_MISMATCH = "currency_mismatch"
EXHAUSTED = "exhausted"


@dataclass(frozen=True)
class Promotion:
    """Higher priority first; ties: lower created_seq (older) first, then id."""

    id: str
    priority: int
    exclusive: bool
    requires_coupon: bool
    created_seq: int
    conditions: tuple[Condition, ...]
    actions: tuple[Action, ...]
    # The evaluation order's sort key, worked out once: every cart sorts every live promotion.
    rank: tuple[int, int, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_text(self.id, "id")
        for name in ("priority", "created_seq"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name}: must be an integer, got {value!r}")
        for name in ("exclusive", "requires_coupon"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: must be true or false, got {getattr(self, name)!r}")
        object.__setattr__(self, "conditions", tuple(self.conditions))
        object.__setattr__(self, "actions", tuple(self.actions))
        object.__setattr__(self, "rank", (-self.priority, self.created_seq, self.id))


def promotion_from_dict(promotion_id: str, data: Mapping[str, Any], created_seq: int) -> Promotion:
    """Parse the contract's promotion body. priority defaults to 0, exclusive and
    requires_coupon to false, conditions to []; actions must not be empty. Other top-level keys
    (name, starts_at, ends_at) are the caller's business and are ignored."""
    if not isinstance(data, Mapping):
        raise ValueError(f"promotion: must be an object, got {data!r}")
    conditions = data.get("conditions") or []
    actions = data.get("actions")
    if not isinstance(conditions, list | tuple):
        raise ValueError(f"conditions: must be a list, got {conditions!r}")
    if not isinstance(actions, list | tuple) or not actions:
        raise ValueError(f"actions: must be a non-empty list, got {actions!r}")
    return Promotion(
        id=promotion_id,
        priority=data.get("priority", 0),
        exclusive=data.get("exclusive", False),
        requires_coupon=data.get("requires_coupon", False),
        created_seq=created_seq,
        conditions=tuple(
            condition_from_dict(c, f"conditions[{k}]") for k, c in enumerate(conditions)
        ),
        actions=tuple(action_from_dict(a, f"actions[{k}]") for k, a in enumerate(actions)),
    )


_RANK = attrgetter("rank")


@dataclass
class _Ledger:
    """Working state, with cart lines in canonical order; added items follow them."""

    lines: list[CartLine]
    remaining: list[int]
    shipping_left: int
    select: LineSelector
    added: list[CartLine] = field(default_factory=list)
    discounts: "list[_Pending]" = field(default_factory=list)


def _line_key(line: CartLine) -> tuple[str, bool, str, int, int, tuple[str, ...]]:
    return (
        line.product_id,
        line.variant_id is not None,
        line.variant_id or "",
        line.unit_price,
        line.quantity,
        line.category_ids,
    )


def price_cart(
    cart: Cart,
    promotions: Sequence[Promotion],
    bundles: Sequence[Bundle],
    customer: CustomerFacts | None,
    coupons: Sequence[AppliedCoupon],
    gift_cards: Sequence[GiftCardBalance],
    rejected_codes: Sequence[RejectedCode] = (),
) -> PricedCart:
    """Price `cart`: bundles, then promotions by priority, then gift cards."""
    # Work on the lines sorted by content so that no outcome depends on the order they came in;
    # identical lines are interchangeable, so their relative order cannot matter either.
    order = sorted(range(len(cart.lines)), key=lambda i: (_line_key(cart.lines[i]), i))
    lines = [cart.lines[i] for i in order]
    ledger = _Ledger(lines, [line.total for line in lines], cart.shipping, LineSelector(lines))
    for bundle, parts in bundle_discounts(bundles, lines):
        for i, amount in parts.items():
            ledger.remaining[i] -= amount
        ledger.discounts.append(_Pending("bundle", parts, 0, bundle_id=bundle.id))
    coupon_reasons = _apply_promotions(ledger, cart, promotions, customer, coupons)

    position = order + list(range(len(order), len(order) + len(ledger.added)))
    discounts = tuple(pending.discount(position) for pending in ledger.discounts)
    subtotal = sum(line.total for line in (*cart.lines, *ledger.added))
    shipping_discount = cart.shipping - ledger.shipping_left
    total = subtotal - sum(d.amount for d in discounts) + cart.shipping - shipping_discount
    uses, card_rejections = _draw_gift_cards(cart.currency, total, gift_cards)
    rejected = (
        *rejected_codes,
        *(RejectedCode(coupons[k].code, reason) for k, reason in sorted(coupon_reasons.items())),
        *card_rejections,
    )
    return PricedCart(
        subtotal=subtotal,
        discounts=discounts,
        shipping=cart.shipping,
        shipping_discount=shipping_discount,
        total=total,
        gift_cards=uses,
        amount_due=total - sum(use.amount for use in uses),
        added_items=tuple(ledger.added),
        rejected_codes=tuple(rejected),
    )


def _apply_promotions(
    ledger: _Ledger,
    cart: Cart,
    promotions: Sequence[Promotion],
    customer: CustomerFacts | None,
    coupons: Sequence[AppliedCoupon],
) -> dict[int, str]:
    """Apply promotions in evaluation order; returns a rejection reason per coupon position.

    Every coupon either ends up on a discount (source 'coupon') or gets a reason."""
    reasons: dict[int, str] = {}
    by_promotion: dict[str, list[int]] = {}
    seen: set[str] = set()
    for k, coupon in enumerate(coupons):
        if coupon.code in seen:
            reasons[k] = DUPLICATE
        else:
            seen.add(coupon.code)
            by_promotion.setdefault(coupon.promotion_id, []).append(k)
    known = {promotion.id for promotion in promotions}
    for promotion_id, unknown in by_promotion.items():
        if promotion_id not in known:
            reasons.update(dict.fromkeys(unknown, NOT_ELIGIBLE))

    stopped = False
    for promotion in sorted(promotions, key=_RANK):
        positions = by_promotion.get(promotion.id)
        if not promotion.requires_coupon:
            if positions:
                # A code for an automatic promotion adds nothing; say so rather than hide it.
                reasons.update(dict.fromkeys(positions, NOT_ELIGIBLE))
            code = None
        elif not positions:
            continue
        else:
            # A promotion applies at most once per cart: one code is enough.
            reasons.update(dict.fromkeys(positions[1:], NOT_ELIGIBLE))
            code = coupons[positions[0]].code
        applied = (
            not stopped
            and conditions_hold(promotion.conditions, cart, customer)
            and _apply_actions(ledger, promotion, code)
        )
        if applied:
            stopped = promotion.exclusive
        elif code is not None and positions:
            reasons[positions[0]] = NOT_ELIGIBLE
    return reasons


def _apply_actions(ledger: _Ledger, promotion: Promotion, code: str | None) -> bool:
    """Run the promotion's actions in order on a copy; keep them only if they give something."""
    remaining = list(ledger.remaining)
    shipping_left = ledger.shipping_left
    parts: dict[int, int] = {}
    gifts: list[CartLine] = []
    for action in promotion.actions:
        effect = action_effect(action, ledger.lines, remaining, shipping_left, ledger.select)
        if not parts:
            # The usual single action: its amounts are the parts as they are.
            parts = {i: amount for i, amount in effect.lines.items() if amount}
            for i, amount in parts.items():
                remaining[i] -= amount
        else:
            for i, amount in effect.lines.items():
                if amount:
                    remaining[i] -= amount
                    parts[i] = parts.get(i, 0) + amount
        shipping_left -= effect.shipping
        if effect.added is not None:
            if effect.added.total:
                parts[len(ledger.lines) + len(ledger.added) + len(gifts)] = effect.added.total
            gifts.append(effect.added)
    shipping = ledger.shipping_left - shipping_left
    if not gifts and shipping == 0 and not parts:  # parts hold no zero
        return False
    ledger.remaining = remaining
    ledger.shipping_left = shipping_left
    ledger.added.extend(gifts)
    source: Source = "automatic" if code is None else "coupon"
    ledger.discounts.append(_Pending(source, parts, shipping, promotion_id=promotion.id, code=code))
    return True


@dataclass(frozen=True)
class _Pending:
    """An applied bundle or promotion, its amounts keyed by canonical line position (none zero)."""

    source: Source
    parts: Mapping[int, int]
    shipping: int
    promotion_id: str | None = None
    bundle_id: str | None = None
    code: str | None = None

    def discount(self, position: Sequence[int]) -> Discount:
        """The Discount, its lines back at the caller's indexes (added items keep theirs)."""
        parts = self.parts
        # The (index, amount) pairs in index order, made and sorted in C: hundreds per cart.
        lines: tuple[LineAmount, ...] = tuple(
            sorted(zip(map(position.__getitem__, parts), parts.values(), strict=True))
        )
        amount = sum(parts.values())
        return Discount(
            self.source, self.promotion_id, self.bundle_id, self.code, amount, lines, self.shipping
        )


def _draw_gift_cards(
    currency: str, total: int, gift_cards: Sequence[GiftCardBalance]
) -> tuple[tuple[GiftCardUse, ...], list[RejectedCode]]:
    """In the order given, each card pays what it can of what is still due."""
    due = total
    uses: list[GiftCardUse] = []
    rejected: list[RejectedCode] = []
    seen: set[str] = set()
    for card in gift_cards:
        if card.code in seen:
            rejected.append(RejectedCode(card.code, DUPLICATE))
        elif card.currency.upper() != currency.upper():
            rejected.append(RejectedCode(card.code, CURRENCY_MISMATCH))
        elif card.balance == 0:
            rejected.append(RejectedCode(card.code, EXHAUSTED))
        else:
            amount = min(card.balance, due)
            due -= amount
            uses.append(GiftCardUse(card.code, amount))
        seen.add(card.code)
    return tuple(uses), rejected
