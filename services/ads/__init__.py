"""On-site ads: campaigns, serving with sticky A/B variants and frequency caps, ad events and
the campaign report (docs/ads.md)."""
