"""Connector for carrier tracking webhooks in generic JSON and UPS shapes."""
