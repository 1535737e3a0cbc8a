"""AfterShip: an aggregator's trackings (API v4 responses and webhooks)."""
