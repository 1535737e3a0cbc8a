"""UPS: the Track API (REST JSON) and UPS-style activity webhooks."""
