"""The benchmark's store: a catalog, a 50-line cart, 200 promotions of every kind and 20 bundles,
drawn from a seeded generator so every run prices the same thing."""

import random
from dataclasses import dataclass
from typing import Any

CATEGORIES = [f"cat{i}" for i in range(10)]
GROUP = "members"


@dataclass(frozen=True)
class Product:
    id: str
    price: int
    categories: list[str]


def catalog(rng: random.Random, count: int = 80) -> list[Product]:
    return [
        Product(
            f"prod{i}", rng.randrange(500, 20_000, 5), rng.sample(CATEGORIES, rng.randint(1, 2))
        )
        for i in range(count)
    ]


def cart_items(rng: random.Random, products: list[Product], lines: int) -> list[dict[str, Any]]:
    return [
        {"product_id": p.id, "quantity": rng.randint(1, 3), "unit_price": p.price}
        for p in rng.sample(products, lines)
    ]


def _gate(k: int, rng: random.Random, absent: list[Product]) -> dict[str, Any]:
    """A targeting condition this cart and customer do not meet: another audience, a product
    not in the cart, a total far above or below this cart's."""
    gates: list[dict[str, Any]] = [
        {"type": "shopper_group", "group": "wholesale"},
        {"type": "product_in_cart", "product_id": rng.choice(absent).id},
        {"type": "cart_total_min", "amount": 50_000_000},
        {"type": "cart_total_max", "amount": 10_000},
    ]
    return gates[k % 4]


def _promotion(k: int, rng: random.Random, products: list[Product]) -> dict[str, Any]:
    """One of eight kinds in turn, with conditions of its own."""
    cat = rng.choice(CATEGORIES)
    minimum = {"type": "cart_total_min", "amount": rng.randrange(0, 400_000, 100)}
    kind = k % 8
    body: dict[str, Any] = {"name": f"promo {k}", "priority": rng.randint(0, 100)}
    if kind == 0:
        body |= {
            "actions": [{"type": "percent_off", "percent": rng.randint(1, 10), "target": "cart"}],
            "conditions": [minimum],
        }
    elif kind == 1:
        body |= {
            "actions": [
                {
                    "type": "percent_off",
                    "percent": rng.randint(1, 10),
                    "target": "items",
                    "category_ids": [cat],
                }
            ]
        }
    elif kind == 2:
        body |= {
            "actions": [{"type": "fixed_off", "amount": rng.randrange(100, 2000, 50)}],
            "conditions": [minimum, {"type": "category_in_cart", "category_id": cat}],
        }
    elif kind == 3:
        body |= {"actions": [{"type": "free_shipping"}], "conditions": [minimum]}
    elif kind == 4:
        side = {"category_ids": [cat], "quantity": 2}
        body |= {
            "actions": [
                {
                    "type": "buy_x_get_y",
                    "buy": side,
                    "get": {**side, "quantity": 1},
                    "max_applications": 2,
                }
            ]
        }
    elif kind == 5:
        gift = rng.choice(products).id
        body |= {
            "actions": [{"type": "free_product", "product_id": gift, "quantity": 1}],
            "conditions": [{"type": "product_in_cart", "product_id": rng.choice(products).id}],
        }
    elif kind == 6:
        ids = [p.id for p in rng.sample(products, 3)]
        body |= {
            "actions": [
                {"type": "percent_off", "percent": 5, "target": "items", "product_ids": ids}
            ],
            "conditions": [{"type": "shopper_group", "group": GROUP}, {"type": "first_order"}],
        }
    else:
        body |= {
            "actions": [{"type": "percent_off", "percent": 10, "target": "cart"}],
            "requires_coupon": True,
        }
    if k % 50 == 49:
        # A few exclusive promotions, evaluated last: they stop little.
        body |= {"exclusive": True, "priority": -1}
    return body


def promotions(
    rng: random.Random,
    products: list[Product],
    count: int,
    cart: list[dict[str, Any]],
    *,
    targeted: bool,
) -> list[dict[str, Any]]:
    """`targeted`: as a store runs them, most promotions aim at an audience, products or a
    basket size, so only about one in ten (plus the coupon's) applies to a given cart. Without,
    every condition holds for this cart and they all stack: the stress case."""
    in_cart = {item["product_id"] for item in cart}
    absent = [p for p in products if p.id not in in_cart]
    out = []
    for k in range(count):
        body = _promotion(k, rng, products)
        if targeted and k % 10 != 0:
            body["conditions"] = [*body.get("conditions", []), _gate(k // 10, rng, absent)]
        out.append(body)
    return out


def bundles(rng: random.Random, products: list[Product], count: int) -> list[dict[str, Any]]:
    out = []
    for k in range(count):
        a, b = rng.sample(products, 2)
        discount = (
            {"type": "percent", "value": rng.randint(5, 20)}
            if k % 2
            else {"type": "fixed", "value": rng.randrange(100, 1000, 50)}
        )
        out.append(
            {
                "name": f"bundle {k}",
                "discount": discount,
                "components": [
                    {"product_id": a.id, "quantity": 1},
                    {"product_id": b.id, "quantity": 1},
                ],
            }
        )
    return out
