"""AfterShip transport: read one tracking by courier slug and number.

AfterShip also pushes tracking updates to the inbound endpoint; this poll
is the fallback. The API key is the connection's outbound secret.
"""

from __future__ import annotations

from urllib.parse import quote

import requests

from integrations.connectors.carrier.transport import endpoint, fetch
from integrations.models import Connection


def build_track_request(
    connection: Connection, slug: str, tracking_number: str
) -> requests.Request:
    """Return the GET request for one tracking."""
    path = f"v4/trackings/{quote(slug, safe='')}/{quote(tracking_number, safe='')}"
    return requests.Request(
        "GET",
        endpoint(connection, path),
        headers={
            "aftership-api-key": connection.outbound_secret,
            "Accept": "application/json",
        },
    )


def fetch_tracking(connection: Connection, slug: str, tracking_number: str) -> bytes:
    """Fetch one tracking from AfterShip; return the raw body."""
    return fetch(connection, build_track_request(connection, slug, tracking_number))
