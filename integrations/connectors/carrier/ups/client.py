"""UPS transport: the Track API by tracking number, with an OAuth bearer token.

The token is the connection's outbound secret, obtained and rotated through
the connection's OAuth2 settings.
"""

from __future__ import annotations

from urllib.parse import quote

import requests

from integrations.connectors.carrier.transport import endpoint, fetch
from integrations.models import Connection


def build_track_request(
    connection: Connection, tracking_number: str
) -> requests.Request:
    """Return the GET request for one tracking number's details."""
    return requests.Request(
        "GET",
        endpoint(connection, f"api/track/v1/details/{quote(tracking_number, safe='')}"),
        headers={
            "Authorization": f"Bearer {connection.outbound_secret}",
            "Accept": "application/json",
            "transId": tracking_number,
            "transactionSrc": "waybill",
        },
    )


def fetch_tracking(connection: Connection, tracking_number: str) -> bytes:
    """Fetch one tracking number's details from UPS; return the raw body."""
    return fetch(connection, build_track_request(connection, tracking_number))
