"""What a publishable key is shown of a priced cart. The key sits in every storefront page, so
anyone can call evaluate with it: the answer must tell them no more than a shopper may know.

- Any code that does not apply is `invalid_code`, listed in the order given: `unknown`,
  `not_eligible` (bound to another customer), `exhausted` or `not_started` would tell a real code
  from a made-up one, and the order of the list would too (known codes are rejected later).
- A gift card pays at most what the cart's items cost by the catalog (checkout_catalog.
  catalog_value): the storefront sets `unit_price` and `shipping`, so an inflated cart would
  otherwise show a card's whole balance. An empty card pays 0 like any other the cart does not
  reach. Cards are shown masked, as everywhere.
- Customer-specific pricing needs a shopper token: that is decided before pricing
  (services/shopper_tokens.priced_customer).

Secret-key callers (the platform's backend) keep the detailed reasons and amounts."""

import dataclasses
from collections import Counter

from services.checkout import pricing
from services.checkout.code_text import mask_gift_card, normalize_coupon, normalize_gift_card
from services.checkout.inputs import CheckoutInputs, CheckoutRequest

INVALID_CODE = "invalid_code"


def _coupons(priced: pricing.PricedCart, request: CheckoutRequest) -> list[pricing.RejectedCode]:
    """Every coupon code given that did not end up on a discount, in the order given."""
    applied = Counter(d.code for d in priced.discounts if d.code is not None)
    rejected = []
    for given in request.coupon_codes:
        code = normalize_coupon(given)
        if applied[code]:
            applied[code] -= 1
        else:
            rejected.append(pricing.RejectedCode(code, INVALID_CODE))
    return rejected


def shopper_view(
    priced: pricing.PricedCart, inputs: CheckoutInputs, request: CheckoutRequest
) -> pricing.PricedCart:
    # The cards pay in the order given, as in pricing, but out of `budget` rather than the total:
    # the same as pricing a total of min(total, budget).
    budget = min(priced.total, inputs.catalog_value or 0)
    drawn = {use.code: use.amount for use in priced.gift_cards}  # by card id
    # An empty card is shown paying 0, like a card the cart does not reach, rather than
    # rejected: a rejection would tell "empty" from "not empty" whatever the cart.
    empty = {
        r.code
        for r in priced.rejected_codes
        if r.reason == pricing.EXHAUSTED and r.code in inputs.codes.card_codes
    }
    gift_cards: list[pricing.GiftCardUse] = []
    rejected = _coupons(priced, request)
    for given in request.gift_card_codes:
        code = normalize_gift_card(given)
        card_id = inputs.codes.card_ids.get(code, "")
        if card_id in drawn:
            amount = min(drawn.pop(card_id), budget)
            budget -= amount
            gift_cards.append(pricing.GiftCardUse(card_id, amount))
        elif card_id in empty:
            empty.discard(card_id)
            gift_cards.append(pricing.GiftCardUse(card_id, 0))
        else:
            rejected.append(pricing.RejectedCode(mask_gift_card(code), INVALID_CODE))
    return dataclasses.replace(
        priced,
        gift_cards=tuple(gift_cards),
        amount_due=priced.total - sum(use.amount for use in gift_cards),
        rejected_codes=tuple(rejected),
    )
