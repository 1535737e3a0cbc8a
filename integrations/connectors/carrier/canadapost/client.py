"""Canada Post transport: the tracking-detail resource with basic auth.

The API user name and password are the connection's OAuth client id and
outbound secret; Canada Post answers in the language the request asks for.
"""

from __future__ import annotations

from urllib.parse import quote

import requests

from integrations.connectors.carrier.transport import endpoint, fetch
from integrations.models import Connection


def build_track_request(
    connection: Connection, pin: str, *, language: str = "en-CA"
) -> requests.Request:
    """Return the GET request for one PIN's tracking detail."""
    return requests.Request(
        "GET",
        endpoint(connection, f"vis/track/pin/{quote(pin, safe='')}/detail"),
        auth=(connection.oauth_client_id, connection.outbound_secret),
        headers={
            "Accept": "application/vnd.cpc.track-v2+xml",
            "Accept-Language": language,
        },
    )


def fetch_tracking(connection: Connection, pin: str) -> bytes:
    """Fetch one PIN's tracking detail from Canada Post; return the raw body."""
    return fetch(connection, build_track_request(connection, pin))
