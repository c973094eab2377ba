"""Checkout: pricing, promotions, coupons, gift cards, store credit, bundles, recommendations."""
