"""Properties of price_cart over random carts, promotions, bundles, coupons and gift cards."""

from collections import Counter
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.checkout.pricing import (
    Action,
    AppliedCoupon,
    Bundle,
    BundleComponent,
    BuyXGetY,
    Cart,
    CartLine,
    CartTotalMax,
    CartTotalMin,
    CategoryInCart,
    Condition,
    CustomerFacts,
    FirstOrder,
    FixedOff,
    FreeProduct,
    FreeShipping,
    GiftCardBalance,
    ItemSelector,
    PercentOff,
    PricedCart,
    ProductInCart,
    Promotion,
    ShopperGroup,
    price_cart,
)

PRODUCTS = ["p0", "p1", "p2", "p3", "p4"]
VARIANTS = ["v0", "v1", "v2"]
CATEGORIES = ["c0", "c1", "c2"]

ids = st.lists(st.sampled_from(PRODUCTS), max_size=2, unique=True).map(tuple)
categories = st.lists(st.sampled_from(CATEGORIES), max_size=2, unique=True).map(tuple)
percents = st.one_of(st.integers(1, 100), st.decimals(Decimal("0.01"), Decimal("100"), places=2))
amounts = st.integers(0, 300_000)

lines = st.builds(
    CartLine,
    st.sampled_from(PRODUCTS),
    st.none() | st.sampled_from(VARIANTS),
    st.integers(1, 5),
    st.integers(0, 100_000),
    categories,
)

conditions: st.SearchStrategy[Condition] = st.one_of(
    st.builds(CartTotalMin, amounts),
    st.builds(CartTotalMax, amounts),
    st.builds(ShopperGroup, st.sampled_from(["vip", "staff"])),
    st.builds(ProductInCart, product_id=st.sampled_from(PRODUCTS)),
    st.builds(ProductInCart, variant_id=st.sampled_from(VARIANTS)),
    st.builds(CategoryInCart, st.sampled_from(CATEGORIES)),
    st.just(FirstOrder()),
)
selectors = st.builds(ItemSelector, st.integers(1, 3), ids, categories)
actions: st.SearchStrategy[Action] = st.one_of(
    st.builds(PercentOff, percents, st.sampled_from(["cart", "items"]), ids, categories),
    st.builds(FixedOff, amounts),
    st.just(FreeShipping()),
    st.builds(BuyXGetY, selectors, selectors, st.none() | st.integers(1, 3)),
    st.builds(
        FreeProduct,
        product_id=st.sampled_from(PRODUCTS),
        quantity=st.integers(1, 2),
        unit_price=st.integers(0, 100_000),
    ),
)


@st.composite
def promotions(draw: st.DrawFn) -> list[Promotion]:
    count = draw(st.integers(0, 5))
    return [
        Promotion(
            f"promo{k}",
            draw(st.integers(0, 3)),
            draw(st.booleans()),
            draw(st.booleans()),
            draw(st.integers(0, 3)),
            tuple(draw(st.lists(conditions, max_size=2))),
            tuple(draw(st.lists(actions, min_size=1, max_size=3))),
        )
        for k in range(count)
    ]


components = st.one_of(
    st.builds(BundleComponent, product_id=st.sampled_from(PRODUCTS), quantity=st.integers(1, 3)),
    st.builds(BundleComponent, variant_id=st.sampled_from(VARIANTS), quantity=st.integers(1, 3)),
)
bundles = st.lists(
    st.one_of(
        st.builds(
            Bundle,
            st.sampled_from(["b0", "b1", "b2"]),
            st.lists(components, min_size=1, max_size=3).map(tuple),
            st.just("percent"),
            percents,
        ),
        st.builds(
            Bundle,
            st.sampled_from(["b0", "b1", "b2"]),
            st.lists(components, min_size=1, max_size=3).map(tuple),
            st.just("fixed"),
            st.integers(0, 50_000),
        ),
    ),
    max_size=3,
)
customers = st.none() | st.builds(
    CustomerFacts,
    st.none() | st.just("cust"),
    st.frozensets(st.sampled_from(["vip", "staff"])),
    st.booleans(),
)
coupons = st.lists(
    st.builds(
        AppliedCoupon,
        st.sampled_from(["A", "B", "C", "D"]),
        st.sampled_from([f"promo{k}" for k in range(6)]),
    ),
    max_size=4,
)
gift_cards = st.lists(
    st.builds(
        GiftCardBalance,
        st.sampled_from(["G1", "G2", "G3"]),
        st.integers(0, 200_000),
        st.sampled_from(["USD", "EUR"]),
    ),
    max_size=3,
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "cart": Cart(
            "USD", tuple(draw(st.lists(lines, min_size=1, max_size=30))), draw(st.integers(0, 5000))
        ),
        "promotions": draw(promotions()),
        "bundles": draw(bundles),
        "customer": draw(customers),
        "coupons": draw(coupons),
        "gift_cards": draw(gift_cards),
    }


def run(s: dict[str, Any], cart: Cart | None = None) -> PricedCart:
    return price_cart(
        cart or s["cart"],
        s["promotions"],
        s["bundles"],
        s["customer"],
        s["coupons"],
        s["gift_cards"],
    )


def per_content(result: PricedCart, cart: Cart) -> list[Counter[Any]]:
    """Each discount's line amounts keyed by the line's content rather than its index."""
    every = (*cart.lines, *result.added_items)
    return [Counter((every[i], amount) for i, amount in d.lines) for d in result.discounts]


def summary(result: PricedCart) -> tuple[Any, ...]:
    return (
        result.subtotal,
        result.shipping_discount,
        result.total,
        result.amount_due,
        result.gift_cards,
        result.added_items,
        result.rejected_codes,
        [
            (d.source, d.promotion_id, d.bundle_id, d.code, d.amount, d.shipping_amount)
            for d in result.discounts
        ],
    )


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_amounts_add_up_and_nothing_goes_negative(s: dict[str, Any]) -> None:
    result = run(s)
    cart: Cart = s["cart"]
    every = (*cart.lines, *result.added_items)
    taken = [0] * len(every)
    for d in result.discounts:
        assert sum(amount for _, amount in d.lines) == d.amount
        assert all(amount > 0 for _, amount in d.lines)
        assert [i for i, _ in d.lines] == sorted({i for i, _ in d.lines})
        for i, amount in d.lines:
            taken[i] += amount
    assert all(t <= line.total for t, line in zip(taken, every, strict=True))
    assert 0 <= result.shipping_discount <= result.shipping == cart.shipping
    assert result.subtotal == sum(line.total for line in every)
    assert result.total == (
        result.subtotal
        - sum(d.amount for d in result.discounts)
        + result.shipping
        - result.shipping_discount
    )
    assert result.total >= 0
    assert result.amount_due == result.total - sum(g.amount for g in result.gift_cards) >= 0
    used = {d.code for d in result.discounts if d.code is not None}
    rejected = {r.code for r in result.rejected_codes}
    assert {c.code for c in s["coupons"]} <= used | rejected


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_reordering_lines_changes_only_indexes(s: dict[str, Any], rnd: Any) -> None:
    cart: Cart = s["cart"]
    shuffled = list(cart.lines)
    rnd.shuffle(shuffled)
    other = Cart(cart.currency, tuple(shuffled), cart.shipping)
    first, second = run(s), run(s, other)
    assert summary(first) == summary(second)
    assert per_content(first, cart) == per_content(second, other)


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_price_cart_is_deterministic(s: dict[str, Any]) -> None:
    assert run(s) == run(s)
    assert run(s).to_contract_dict() == run(s).to_contract_dict()
