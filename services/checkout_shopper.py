"""What a publishable key is shown of a priced cart. The key sits in every storefront page, so
anyone can call evaluate with it: the answer must tell them no more than a shopper may know.

- Any code that does not apply is `invalid_code`, listed in the order given: `unknown`,
  `not_eligible` (bound to another customer), `exhausted` or `not_started` would tell a real code
  from a made-up one, and the order of the list would too (known codes are rejected later).
- A gift card pays at most what the cart's items cost by the catalog (checkout_catalog.
  catalog_value): the storefront sets `unit_price` and `shipping`, so an inflated cart would
  otherwise show a card's whole balance. Cards are shown masked, as everywhere.
- Customer-specific pricing needs a shopper token: that is decided before pricing
  (services/shopper_tokens.priced_customer).

Secret-key callers (the platform's backend) keep the detailed reasons and amounts."""

import dataclasses
from collections import Counter

from services import pricing
from services.checkout_inputs import CheckoutInputs, CheckoutRequest
from services.codes import mask_gift_card, normalize_coupon, normalize_gift_card

INVALID_CODE = "invalid_code"


def _capped_gift_cards(priced: pricing.PricedCart, budget: int) -> tuple[pricing.GiftCardUse, ...]:
    """The cards in the order they were drawn, drawing on `budget` instead of the total: the
    same as pricing with a total of min(total, budget)."""
    uses = []
    for use in priced.gift_cards:
        amount = min(use.amount, budget)
        budget -= amount
        uses.append(dataclasses.replace(use, amount=amount))
    return tuple(uses)


def _rejected(
    priced: pricing.PricedCart, inputs: CheckoutInputs, request: CheckoutRequest
) -> tuple[pricing.RejectedCode, ...]:
    """Every code given that did not end up applied, in the order given, with one reason."""
    applied = Counter(d.code for d in priced.discounts if d.code is not None)
    rejected = []
    for given in request.coupon_codes:
        code = normalize_coupon(given)
        if applied[code]:
            applied[code] -= 1
        else:
            rejected.append(pricing.RejectedCode(code, INVALID_CODE))
    drawn = Counter(use.code for use in priced.gift_cards)  # by card id
    for given in request.gift_card_codes:
        code = normalize_gift_card(given)
        card_id = inputs.codes.card_ids.get(code)
        if card_id is not None and drawn[card_id]:
            drawn[card_id] -= 1
        else:
            rejected.append(pricing.RejectedCode(mask_gift_card(code), INVALID_CODE))
    return tuple(rejected)


def shopper_view(
    priced: pricing.PricedCart, inputs: CheckoutInputs, request: CheckoutRequest
) -> pricing.PricedCart:
    gift_cards = priced.gift_cards
    if gift_cards:
        budget = min(priced.total, inputs.catalog_value or 0)
        gift_cards = _capped_gift_cards(priced, budget)
    return dataclasses.replace(
        priced,
        gift_cards=gift_cards,
        amount_due=priced.total - sum(use.amount for use in gift_cards),
        rejected_codes=_rejected(priced, inputs, request),
    )
