"""DHL transport: the Shipment Tracking Unified API with its API key header."""

from __future__ import annotations

import requests

from integrations.connectors.carrier.transport import endpoint, fetch
from integrations.models import Connection


def build_track_request(
    connection: Connection, tracking_number: str
) -> requests.Request:
    """Return the GET request for one tracking number."""
    return requests.Request(
        "GET",
        endpoint(connection, "track/shipments"),
        params={"trackingNumber": tracking_number},
        headers={
            connection.api_key_header or "DHL-API-Key": connection.outbound_secret,
            "Accept": "application/json",
        },
    )


def fetch_tracking(connection: Connection, tracking_number: str) -> bytes:
    """Fetch one tracking number's shipments from DHL; return the raw body."""
    return fetch(connection, build_track_request(connection, tracking_number))
