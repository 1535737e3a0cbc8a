"""DHL: the Shipment Tracking Unified API and the MyDHL Express API (JSON)."""
