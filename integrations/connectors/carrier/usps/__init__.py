"""USPS: the Web Tools Track/Confirm API (TrackResponse XML)."""
