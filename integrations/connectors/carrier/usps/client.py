"""USPS transport: the Web Tools TrackV2 API, a GET with an XML query.

The user id is the connection's OAuth client id; USPS takes it inside the
XML request, not in a header.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

import requests

from integrations.connectors.carrier.transport import endpoint, fetch
from integrations.models import Connection


def build_track_request(
    connection: Connection, *tracking_numbers: str
) -> requests.Request:
    """Return the GET request for up to 10 tracking numbers in one batch."""
    if not 1 <= len(tracking_numbers) <= 10:
        raise ValueError("USPS tracks 1 to 10 numbers per request")
    ids = "".join(f"<TrackID ID={quoteattr(number)}/>" for number in tracking_numbers)
    query = (
        f"<TrackFieldRequest USERID={quoteattr(connection.oauth_client_id)}>"
        f"<Revision>1</Revision><ClientIp>127.0.0.1</ClientIp>{ids}"
        "</TrackFieldRequest>"
    )
    return requests.Request(
        "GET",
        endpoint(connection, "ShippingAPI.dll"),
        params={"API": "TrackV2", "XML": query},
    )


def fetch_tracking(connection: Connection, *tracking_numbers: str) -> bytes:
    """Fetch a batch of tracking numbers from USPS; return the raw body."""
    return fetch(connection, build_track_request(connection, *tracking_numbers))
