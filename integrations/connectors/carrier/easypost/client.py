"""EasyPost transport: retrieve a Tracker by id with the API key.

EasyPost also pushes ``tracker.updated`` events to the inbound endpoint;
polling is the fallback when a push was missed. The API key is the
connection's outbound secret, sent as the basic-auth user name.
"""

from __future__ import annotations

from urllib.parse import quote

import requests

from integrations.connectors.carrier.transport import endpoint, fetch
from integrations.models import Connection


def build_track_request(connection: Connection, tracker_id: str) -> requests.Request:
    """Return the GET request for one Tracker."""
    return requests.Request(
        "GET",
        endpoint(connection, f"v2/trackers/{quote(tracker_id, safe='')}"),
        auth=(connection.outbound_secret, ""),
        headers={"Accept": "application/json"},
    )


def fetch_tracking(connection: Connection, tracker_id: str) -> bytes:
    """Fetch one Tracker from EasyPost; return the raw body."""
    return fetch(connection, build_track_request(connection, tracker_id))
