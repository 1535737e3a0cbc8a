"""DCSA transport: GET /events filtered by transport document reference.

Carriers that speak DCSA also push events (version 3 ``POST /events``) to
the inbound endpoint; this poll is the fallback. The API key is the
connection's outbound secret in its API key header.
"""

from __future__ import annotations

import requests

from integrations.connectors.carrier.transport import endpoint, fetch
from integrations.models import Connection


def build_track_request(connection: Connection, document: str) -> requests.Request:
    """Return the GET request for the events of one transport document."""
    return requests.Request(
        "GET",
        endpoint(connection, "events"),
        params={"transportDocumentReference": document},
        headers={
            connection.api_key_header or "API-Key": connection.outbound_secret,
            "Accept": "application/json",
        },
    )


def fetch_tracking(connection: Connection, document: str) -> bytes:
    """Fetch one transport document's events; return the raw body."""
    return fetch(connection, build_track_request(connection, document))
