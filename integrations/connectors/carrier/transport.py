"""Send a carrier request with the connection's timeout and read the body.

Each carrier's ``client.py`` builds its request (URL, auth header, body)
with ``build_track_request``; ``fetch`` sends it and returns the raw bytes
for that carrier's pure ``mapping.parse_tracking``. Webhooks take the other
way in: the inbound endpoint stores the body and the same mapping reads it.
"""

from __future__ import annotations

import requests

from integrations.models import Connection


class CarrierUnavailable(Exception):
    """The carrier did not answer with a usable response."""


def fetch(
    connection: Connection,
    request: requests.Request,
    *,
    session: requests.Session | None = None,
) -> bytes:
    """Send a prepared carrier request; return the body of a 2xx answer.

    Redirects are not followed: a carrier API that moves is a configuration
    change, not something to chase with credentials attached.
    """
    session = session or requests.Session()
    try:
        response = session.send(
            session.prepare_request(request),
            timeout=connection.timeout_seconds,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise CarrierUnavailable(f"{connection.code}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise CarrierUnavailable(f"{connection.code}: HTTP {response.status_code}")

    return response.content


def endpoint(connection: Connection, path: str) -> str:
    """Join the connection's base URL and a path."""
    return f"{connection.base_url.rstrip('/')}/{path.lstrip('/')}"
