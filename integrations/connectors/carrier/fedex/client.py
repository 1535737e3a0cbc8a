"""FedEx transport: a Web Services TrackRequest (SOAP XML) posted to the API.

The key and password are the connection's OAuth client id and outbound
secret; they travel in the request body, as the Web Services require.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import requests

from integrations.connectors.carrier.transport import endpoint, fetch
from integrations.models import Connection


def build_track_request(
    connection: Connection, tracking_number: str
) -> requests.Request:
    """Return the POST request that tracks one number by its tracking number."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<TrackRequest xmlns="http://fedex.com/ws/track/v7">'
        "<WebAuthenticationDetail><UserCredential>"
        f"<Key>{escape(connection.oauth_client_id)}</Key>"
        f"<Password>{escape(connection.outbound_secret)}</Password>"
        "</UserCredential></WebAuthenticationDetail>"
        "<Version><ServiceId>trck</ServiceId><Major>7</Major>"
        "<Intermediate>0</Intermediate><Minor>0</Minor></Version>"
        "<SelectionDetails><PackageIdentifier><Type>TRACKING_NUMBER_OR_DOORTAG</Type>"
        f"<Value>{escape(tracking_number)}</Value></PackageIdentifier></SelectionDetails>"
        "<ProcessingOptions>INCLUDE_DETAILED_SCANS</ProcessingOptions>"
        "</TrackRequest>"
    )
    return requests.Request(
        "POST",
        endpoint(connection, "web-services/track"),
        data=body.encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )


def fetch_tracking(connection: Connection, tracking_number: str) -> bytes:
    """Fetch one tracking number's reply from FedEx; return the raw body."""
    return fetch(connection, build_track_request(connection, tracking_number))
