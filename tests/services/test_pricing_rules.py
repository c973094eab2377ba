"""Worked examples of the pricing rules (docs/pricing.md), including the peers' cases."""

from decimal import Decimal
from typing import Any

import pytest

from services.checkout.pricing import (
    AppliedCoupon,
    Bundle,
    BundleComponent,
    Cart,
    CartLine,
    CustomerFacts,
    GiftCardBalance,
    PricedCart,
    Promotion,
    RejectedCode,
    allocate,
    bundle_from_dict,
    format_amount,
    price_cart,
    promotion_from_dict,
    round_half_up,
    to_major,
    to_minor,
)

_seq = iter(range(1, 1_000_000))


def item(
    product: str, quantity: int, unit_price: int, *categories: str, variant: str | None = None
) -> CartLine:
    return CartLine(product, variant, quantity, unit_price, categories)


def promo(pid: str, *actions: dict[str, Any], **fields: Any) -> Promotion:
    created_seq = fields.pop("created_seq", next(_seq))
    return promotion_from_dict(pid, {"actions": list(actions), **fields}, created_seq)


def price(
    lines: list[CartLine],
    promotions: list[Promotion] = [],  # noqa: B006
    *,
    shipping: int = 0,
    currency: str = "USD",
    bundles: list[Bundle] = [],  # noqa: B006
    customer: CustomerFacts | None = None,
    coupons: list[AppliedCoupon] = [],  # noqa: B006
    gift_cards: list[GiftCardBalance] = [],  # noqa: B006
    rejected: list[RejectedCode] = [],  # noqa: B006
) -> PricedCart:
    cart = Cart(currency, tuple(lines), shipping)
    return price_cart(cart, promotions, bundles, customer, coupons, gift_cards, rejected)


def lines_of(result: PricedCart, n: int = 0) -> list[tuple[int, int]]:
    return list(result.discounts[n].lines)


FIXED_10 = {"type": "fixed_off", "amount": 1000}
PCT_10_CART = {"type": "percent_off", "percent": 10, "target": "cart"}
PCT_10_ITEMS = {"type": "percent_off", "percent": 10, "target": "items"}


# ---- money ---------------------------------------------------------------------------------


def test_round_half_up_and_currency_helpers() -> None:
    assert [round_half_up(x) for x in (Decimal("0.5"), Decimal("1.49"), Decimal("2.5"))] == [
        1,
        1,
        3,
    ]
    assert round_half_up(Decimal("-2.5")) == -3
    assert format_amount(1999, "USD") == "19.99"
    assert format_amount(1234, "JPY") == "1234"
    assert format_amount(12345, "KWD") == "12.345"
    assert format_amount(5, "XYZ") == "0.05"
    assert to_major(1234, "kwd") == Decimal("1.234")
    assert to_minor("19.995", "USD") == 2000
    assert to_minor(Decimal("1.2345"), "BHD") == 1235


def test_allocate_gives_leftover_to_largest_remainder_then_later_position() -> None:
    assert allocate(1000, [5000, 5000, 5000]) == [333, 333, 334]
    assert allocate(2, [5, 5, 5]) == [0, 1, 1]
    assert allocate(100, [1, 2]) == [33, 67]  # 33.33 and 66.67: the .67 wins
    assert allocate(0, [0, 0]) == [0, 0]


# ---- allocation and rounding (REFERENCE.md) -----------------------------------------------


def test_fixed_off_over_three_equal_lines_gives_333_333_334() -> None:
    result = price(
        [item("a", 1, 5000), item("b", 1, 5000), item("c", 1, 5000)], [promo("p", FIXED_10)]
    )
    assert result.discounts[0].amount == 1000
    assert lines_of(result) == [(0, 333), (1, 333), (2, 334)]
    assert result.total == 14000


def test_extra_cent_follows_line_content_not_position() -> None:
    result = price(
        [item("c", 1, 5000), item("a", 1, 5000), item("b", 1, 5000)], [promo("p", FIXED_10)]
    )
    assert lines_of(result) == [(0, 334), (1, 333), (2, 333)]  # "c" sorts last: it gets 3.34


def test_stacked_percentages_compound_on_what_is_left() -> None:
    result = price(
        [item("a", 1, 20000)], [promo("first", PCT_10_CART), promo("second", PCT_10_CART)]
    )
    assert [d.amount for d in result.discounts] == [2000, 1800]
    assert result.total == 16200


def test_items_round_per_line_cart_rounds_once() -> None:
    cart = [item("a", 1, 5), item("b", 1, 5), item("c", 1, 5)]
    per_line = price(cart, [promo("p", PCT_10_ITEMS)])
    assert per_line.discounts[0].amount == 3  # 0.5 -> 1 on each line
    once = price(cart, [promo("p", PCT_10_CART)])
    assert once.discounts[0].amount == 2  # 1.5 -> 2, spread 0, 1, 1
    assert lines_of(once) == [(1, 1), (2, 1)]


def test_percent_off_filters_by_product_or_category() -> None:
    cart = [item("shirt", 2, 2500, "tops"), item("cap", 1, 1000, "hats"), item("mug", 1, 999)]
    action = {
        "type": "percent_off",
        "percent": Decimal("12.5"),
        "target": "items",
        "product_ids": ["mug"],
        "category_ids": ["tops"],
    }
    result = price(cart, [promo("p", action)])
    assert lines_of(result) == [(0, 625), (2, 125)]  # 124.875 -> 125


def test_cart_percent_on_matching_lines_only() -> None:
    cart = [item("shirt", 1, 3000, "tops"), item("tee", 1, 1000, "tops"), item("cap", 1, 5000)]
    action = {"type": "percent_off", "percent": 15, "target": "cart", "category_ids": ["tops"]}
    result = price(cart, [promo("p", action)])
    assert result.discounts[0].amount == 600
    assert lines_of(result) == [(0, 450), (1, 150)]


def test_fixed_off_is_capped_at_what_is_left() -> None:
    result = price(
        [item("a", 1, 3000)], [promo("p", {"type": "fixed_off", "amount": 10000})], shipping=500
    )
    assert result.discounts[0].amount == 3000
    assert result.total == 500


# ---- buy X get Y (Magento BuyXGetYTest) ------------------------------------------------------

BUY2_GET1 = {"type": "buy_x_get_y", "buy": {"quantity": 2}, "get": {"quantity": 1}}


def test_buy_2_get_1_on_three_units_at_10() -> None:
    result = price([item("a", 3, 1000)], [promo("p", BUY2_GET1)])
    assert result.discounts[0].amount == 1000
    assert result.total == 2000


@pytest.mark.parametrize(("units", "free"), [(2, 0), (3, 1), (5, 1), (6, 2), (9, 3)])
def test_each_application_needs_x_plus_y_units(units: int, free: int) -> None:
    result = price([item("a", units, 1000)], [promo("p", BUY2_GET1)])
    assert sum(d.amount for d in result.discounts) == free * 1000


def test_bought_units_are_never_the_free_ones() -> None:
    buy1_get1 = {
        "type": "buy_x_get_y",
        "buy": {"quantity": 1, "product_ids": ["a"]},
        "get": {"quantity": 1, "product_ids": ["a"]},
    }
    assert price([item("a", 1, 1000)], [promo("p", buy1_get1)]).discounts == ()
    assert price([item("a", 2, 1000)], [promo("p", buy1_get1)]).discounts[0].amount == 1000


def test_cheapest_qualifying_get_units_are_free() -> None:
    cart = [item("x", 1, 3000, "shoes"), item("y", 1, 2000, "shoes"), item("z", 1, 1000, "shoes")]
    result = price(cart, [promo("p", BUY2_GET1)])
    assert lines_of(result) == [(2, 1000)]


def test_buy_one_product_get_another_up_to_max_applications() -> None:
    action = {
        "type": "buy_x_get_y",
        "buy": {"quantity": 1, "product_ids": ["p"]},
        "get": {"quantity": 1, "product_ids": ["q"]},
        "max_applications": 2,
    }
    result = price([item("p", 4, 5000), item("q", 4, 1500)], [promo("bogo", action)])
    assert lines_of(result) == [(1, 3000)]


# ---- shipping, conditions, priority, exclusivity -------------------------------------------


def test_free_shipping_is_capped_at_shipping_and_applies_once() -> None:
    free = {"type": "free_shipping"}
    result = price([item("a", 1, 1000)], [promo("p1", free), promo("p2", free)], shipping=700)
    assert result.shipping_discount == 700
    assert [(d.promotion_id, d.amount, d.shipping_amount) for d in result.discounts] == [
        ("p1", 0, 700)
    ]
    assert result.total == 1000


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ({"type": "cart_total_min", "amount": 5000}, True),  # bounds are inclusive
        ({"type": "cart_total_min", "amount": 5001}, False),
        ({"type": "cart_total_max", "amount": 5000}, True),
        ({"type": "cart_total_max", "amount": 4999}, False),
        ({"type": "shopper_group", "group": "vip"}, True),
        ({"type": "shopper_group", "group": "staff"}, False),
        ({"type": "product_in_cart", "product_id": "a"}, True),
        ({"type": "product_in_cart", "variant_id": "a-red"}, True),
        ({"type": "product_in_cart", "variant_id": "a-blue"}, False),
        ({"type": "category_in_cart", "category_id": "tops"}, True),
        ({"type": "category_in_cart", "category_id": "hats"}, False),
        ({"type": "first_order"}, True),
    ],
)
def test_conditions(condition: dict[str, Any], holds: bool) -> None:
    customer = CustomerFacts("c1", frozenset({"vip"}), is_first_order=True)
    result = price(
        [item("a", 2, 2500, "tops", variant="a-red")],
        [promo("p", FIXED_10, conditions=[condition])],
        customer=customer,
    )
    assert bool(result.discounts) is holds


def test_first_order_is_false_without_a_known_customer() -> None:
    p = promo("p", FIXED_10, conditions=[{"type": "first_order"}])
    assert price([item("a", 1, 5000)], [p]).discounts == ()
    anonymous = CustomerFacts(None, frozenset(), is_first_order=True)
    assert price([item("a", 1, 5000)], [p], customer=anonymous).discounts == ()


def test_conditions_use_subtotal_before_discounts() -> None:
    first = promo("big", {"type": "fixed_off", "amount": 4000}, priority=10)
    needs_50 = promo("min50", FIXED_10, conditions=[{"type": "cart_total_min", "amount": 5000}])
    result = price([item("a", 1, 5000)], [needs_50, first])
    assert [d.promotion_id for d in result.discounts] == ["big", "min50"]


def test_exclusive_promotion_that_applies_stops_later_ones() -> None:
    high = promo("high", PCT_10_CART, priority=10)
    exclusive = promo("excl", FIXED_10, priority=5, exclusive=True)
    low = promo("low", PCT_10_CART, priority=1)
    result = price([item("a", 1, 10000)], [low, exclusive, high])
    assert [(d.promotion_id, d.amount) for d in result.discounts] == [
        ("high", 1000),
        ("excl", 1000),
    ]


def test_exclusive_promotion_with_nothing_to_give_does_not_stop() -> None:
    hats = {"type": "percent_off", "percent": 50, "target": "items", "category_ids": ["hats"]}
    exclusive = promo("excl", hats, priority=5, exclusive=True)
    result = price([item("a", 1, 10000)], [exclusive, promo("low", PCT_10_CART)])
    assert [d.promotion_id for d in result.discounts] == ["low"]


def test_priority_ties_go_to_the_older_promotion() -> None:
    half = promo("half", {"type": "percent_off", "percent": 50, "target": "cart"}, created_seq=1)
    ten = promo("ten", FIXED_10, created_seq=2)
    result = price([item("a", 1, 10000)], [ten, half])
    assert [(d.promotion_id, d.amount) for d in result.discounts] == [("half", 5000), ("ten", 1000)]
    older_ten = promo("ten", FIXED_10, created_seq=0)
    result = price([item("a", 1, 10000)], [half, older_ten])
    assert [(d.promotion_id, d.amount) for d in result.discounts] == [("ten", 1000), ("half", 4500)]


# ---- coupons -------------------------------------------------------------------------------


def test_coupon_only_promotion_applies_only_with_its_code() -> None:
    p = promo("spring", PCT_10_CART, requires_coupon=True)
    assert price([item("a", 1, 5000)], [p]).discounts == ()
    result = price([item("a", 1, 5000)], [p], coupons=[AppliedCoupon("SPRING10", "spring")])
    d = result.discounts[0]
    assert (d.source, d.promotion_id, d.code, d.amount) == ("coupon", "spring", "SPRING10", 500)
    assert result.rejected_codes == ()


def test_coupon_whose_conditions_fail_is_not_eligible() -> None:
    p = promo(
        "big",
        FIXED_10,
        requires_coupon=True,
        conditions=[{"type": "cart_total_min", "amount": 10000}],
    )
    result = price(
        [item("a", 1, 5000)],
        [p],
        coupons=[AppliedCoupon("BIG", "big")],
        rejected=[RejectedCode("OLD", "expired")],
    )
    assert result.discounts == ()
    assert result.rejected_codes == (
        RejectedCode("OLD", "expired"),
        RejectedCode("BIG", "not_eligible"),
    )


def test_coupon_for_an_automatic_or_unknown_promotion_is_not_eligible() -> None:
    auto = promo("auto", FIXED_10)
    result = price(
        [item("a", 1, 5000)],
        [auto],
        coupons=[AppliedCoupon("AUTO", "auto"), AppliedCoupon("GONE", "deleted")],
    )
    assert [(d.source, d.code) for d in result.discounts] == [("automatic", None)]
    assert [(r.code, r.reason) for r in result.rejected_codes] == [
        ("AUTO", "not_eligible"),
        ("GONE", "not_eligible"),
    ]


def test_one_code_per_promotion_and_duplicates() -> None:
    p = promo("p", FIXED_10, requires_coupon=True)
    coupons = [AppliedCoupon("A", "p"), AppliedCoupon("B", "p"), AppliedCoupon("A", "p")]
    result = price([item("a", 1, 5000)], [p], coupons=coupons)
    assert [(d.code, d.amount) for d in result.discounts] == [("A", 1000)]
    assert [(r.code, r.reason) for r in result.rejected_codes] == [
        ("B", "not_eligible"),
        ("A", "duplicate"),
    ]


def test_coupon_blocked_by_an_exclusive_promotion_is_not_eligible() -> None:
    exclusive = promo("excl", FIXED_10, priority=9, exclusive=True)
    coupon_promo = promo("c", PCT_10_CART, requires_coupon=True)
    result = price(
        [item("a", 1, 5000)], [exclusive, coupon_promo], coupons=[AppliedCoupon("C", "c")]
    )
    assert [d.promotion_id for d in result.discounts] == ["excl"]
    assert result.rejected_codes == (RejectedCode("C", "not_eligible"),)


# ---- bundles ---------------------------------------------------------------------------------


def kit(discount: dict[str, Any], bundle_id: str = "kit") -> Bundle:
    components = [{"product_id": "a", "quantity": 1}, {"product_id": "b", "quantity": 1}]
    return bundle_from_dict(
        bundle_id, {"name": "Kit", "components": components, "discount": discount}
    )


def test_percent_bundle_discounts_complete_sets_only() -> None:
    cart = [item("a", 3, 2000), item("b", 2, 3000)]
    result = price(cart, bundles=[kit({"type": "percent", "value": 10})])
    d = result.discounts[0]
    assert (d.source, d.bundle_id, d.amount) == ("bundle", "kit", 1000)  # 2 sets of 50.00
    assert lines_of(result) == [(0, 400), (1, 600)]


def test_fixed_bundle_is_per_set_and_a_unit_is_in_one_set_only() -> None:
    other = bundle_from_dict(
        "other",
        {
            "components": [{"product_id": "a", "quantity": 1}, {"product_id": "c", "quantity": 1}],
            "discount": {"type": "fixed", "value": 300},
        },
    )
    cart = [item("a", 1, 2000), item("b", 1, 3000), item("c", 1, 1000)]
    result = price(cart, bundles=[kit({"type": "fixed", "value": 500}), other])
    assert [(d.bundle_id, d.amount) for d in result.discounts] == [("kit", 500)]


def test_bundle_by_variant_and_promotions_after_bundles() -> None:
    bundle = Bundle("duo", (BundleComponent(variant_id="a-red", quantity=2),), "percent", 50)
    cart = [item("a", 3, 1000, variant="a-red")]
    result = price(cart, [promo("p", PCT_10_ITEMS)], bundles=[bundle])
    assert [(d.source, d.amount) for d in result.discounts] == [
        ("bundle", 1000),
        ("automatic", 200),
    ]


# ---- free products, gift cards, currencies ---------------------------------------------------


def test_free_product_is_added_and_fully_discounted() -> None:
    gift = {"type": "free_product", "product_id": "tote", "quantity": 1, "unit_price": 1500}
    result = price([item("a", 1, 5000), item("b", 1, 2000)], [promo("p", gift)])
    assert result.added_items == (CartLine("tote", None, 1, 1500, ()),)
    assert lines_of(result) == [(2, 1500)]
    assert (result.subtotal, result.total) == (8500, 7000)


def test_gift_cards_in_order_with_mismatch_and_exhausted() -> None:
    cards = [
        GiftCardBalance("EUR1", 5000, "EUR"),
        GiftCardBalance("ZERO", 0, "USD"),
        GiftCardBalance("G1", 3000, "USD"),
        GiftCardBalance("G2", 9000, "usd"),
        GiftCardBalance("G3", 100, "USD"),
    ]
    result = price([item("a", 1, 7000)], shipping=500, gift_cards=cards)
    assert [(g.code, g.amount) for g in result.gift_cards] == [
        ("G1", 3000),
        ("G2", 4500),
        ("G3", 0),
    ]
    assert result.amount_due == 0
    assert [(r.code, r.reason) for r in result.rejected_codes] == [
        ("EUR1", "currency_mismatch"),
        ("ZERO", "exhausted"),
    ]


def test_jpy_amounts_have_no_minor_unit() -> None:
    result = price(
        [item("a", 1, 1234)],
        [promo("p", {"type": "percent_off", "percent": 15, "target": "items"})],
        currency="JPY",
    )
    assert result.discounts[0].amount == 185  # 185.1 yen
    assert format_amount(result.total, "JPY") == "1049"


def test_kwd_amounts_have_three_decimals() -> None:
    result = price([item("a", 1, 12345)], [promo("p", PCT_10_CART)], currency="KWD")
    assert result.discounts[0].amount == 1235  # 1.2345 KWD -> 1.235
    assert format_amount(result.total, "KWD") == "11.110"


# ---- contract shape and parsing --------------------------------------------------------------


def test_to_contract_dict_matches_the_checkout_evaluate_response() -> None:
    p = promo("spring", FIXED_10, requires_coupon=True)
    result = price(
        [item("a", 1, 5000, variant="a-1")],
        [p],
        bundles=[Bundle("solo", (BundleComponent("a"),), "fixed", 100)],
        coupons=[AppliedCoupon("SPRING", "spring")],
        shipping=500,
        gift_cards=[GiftCardBalance("G", 1000, "USD")],
    )
    assert result.to_contract_dict() == {
        "subtotal": 5000,
        "discounts": [
            {
                "source": "bundle",
                "bundle_id": "solo",
                "amount": 100,
                "lines": [{"index": 0, "amount": 100}],
            },
            {
                "source": "coupon",
                "promotion_id": "spring",
                "code": "SPRING",
                "amount": 1000,
                "lines": [{"index": 0, "amount": 1000}],
            },
        ],
        "shipping": 500,
        "shipping_discount": 0,
        "total": 4400,
        "gift_cards": [{"code": "G", "amount": 1000}],
        "amount_due": 3400,
        "added_items": [],
        "rejected_codes": [],
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"actions": []}, "actions"),
        (
            {"actions": [{"type": "percent_off", "percent": 0, "target": "cart"}]},
            "actions[0].percent",
        ),
        (
            {"actions": [{"type": "percent_off", "percent": 10, "target": "all"}]},
            "actions[0].target",
        ),
        ({"actions": [{"type": "fixed_off", "amount": 1.5}]}, "actions[0].amount"),
        ({"actions": [{"type": "fixed_off"}]}, "actions[0].amount: is required"),
        ({"actions": [{"type": "teleport"}]}, "actions[0].type"),
        ({"actions": [{"type": "buy_x_get_y", "buy": {"quantity": 2}}]}, "actions[0].get"),
        (
            {"actions": [FIXED_10], "conditions": [{"type": "cart_total_min", "amont": 1}]},
            "conditions[0].amont: unknown field",
        ),
        ({"actions": [FIXED_10], "conditions": [{"type": "product_in_cart"}]}, "conditions[0]"),
        ({"actions": [FIXED_10], "exclusive": "yes"}, "exclusive"),
    ],
)
def test_parsers_name_the_bad_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        promotion_from_dict("p", data, 1)


def test_bundle_parser_names_the_bad_field() -> None:
    with pytest.raises(ValueError, match=r"components\[0\]\.quantity"):
        bundle_from_dict(
            "b",
            {
                "components": [{"product_id": "a", "quantity": 0}],
                "discount": {"type": "fixed", "value": 1},
            },
        )
    with pytest.raises(ValueError, match=r"discount\.type"):
        kit({"type": "bogus", "value": 1})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"product_id": ""}, "product_id"),
        ({"variant_id": ""}, "variant_id"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"unit_price": -1}, "unit_price"),
        ({"unit_price": 1.5}, "unit_price"),
        ({"category_ids": ("",)}, "category_ids"),
        ({"category_ids": "shoes"}, "category_ids"),
    ],
)
def test_a_cart_line_names_its_bad_field(fields: dict[str, Any], message: str) -> None:
    good: dict[str, Any] = {
        "product_id": "a",
        "variant_id": None,
        "quantity": 1,
        "unit_price": 100,
        "category_ids": ("c",),
    }
    with pytest.raises(ValueError, match=f"^{message}: "):
        CartLine(**{**good, **fields})


def test_a_cart_lines_categories_become_a_tuple() -> None:
    line = CartLine("a", "a-red", 2, 100, ["c", "d"])  # type: ignore[arg-type]
    assert line.category_ids == ("c", "d") and line.total == 200
