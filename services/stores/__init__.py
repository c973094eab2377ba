"""Stores: provisioning, API keys and each store's settings."""
