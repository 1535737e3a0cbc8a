"""DCSA Track & Trace: ocean carriers' events (versions 2.2 and 3.0, JSON)."""
