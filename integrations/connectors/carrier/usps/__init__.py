"""USPS: Web Tools TrackResponse (XML) and the Tracking API v3 (JSON)."""
