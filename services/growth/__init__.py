"""Growth programs (group deals, affiliates, referrals, sharing) and the outbound webhooks that
tell the platform about them."""
