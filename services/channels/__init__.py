"""Sales channels: the catalog feeds that Merchant Center and Meta fetch (docs/channels.md)."""
