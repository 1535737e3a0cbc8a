"""How an outbound request proves who sent it, per connection.

A connection chooses one mode (``Connection.outbound_auth``); its outbound
secret is the API key, the HMAC key or the OAuth2 client secret:

- ``none``: no credentials;
- ``api_key``: the secret in the configured header (``X-Api-Key`` by default);
- ``hmac``: the Standard Webhooks signature headers over the exact body;
- ``oauth2``: a bearer token from the client-credentials grant, kept in the
  Django cache until shortly before it expires.

Secrets and tokens never reach a log line or an error text.
"""

from __future__ import annotations

import hashlib
import logging

import requests
from django.core.cache import cache

from integrations import signing
from integrations.models import Connection

logger = logging.getLogger(__name__)

Mode = Connection.OutboundAuth

# A token is dropped this long before it expires (or at half its lifetime,
# if shorter), so a request never leaves with one that dies in flight.
TOKEN_EXPIRY_MARGIN_SECONDS = 60


class OutboundAuthError(Exception):
    """Credentials for an outbound request could not be obtained."""


def outbound_auth_headers(
    *, connection: Connection, message_id: str, body: bytes, fresh: bool = False
) -> dict[str, str]:
    """Return the headers that authenticate one request to ``connection``.

    ``fresh`` forces a new OAuth2 token, for the single retry after a 401.
    """
    mode = connection.outbound_auth
    if mode == Mode.NONE:
        return {}
    if mode == Mode.API_KEY:
        return {connection.api_key_header or "X-Api-Key": connection.outbound_secret}
    if mode == Mode.OAUTH2:
        token = oauth2_access_token(connection=connection, fresh=fresh)
        return {"Authorization": f"Bearer {token}"}
    return signing.signed_headers(connection.outbound_secret, message_id, body)


def oauth2_access_token(*, connection: Connection, fresh: bool = False) -> str:
    """Return a client-credentials access token for a connection, cached.

    The cache key covers the token URL, client id, secret and scope, so a
    changed credential never reuses a token issued for the old one.
    """
    key = _token_cache_key(connection)
    if not fresh:
        cached = cache.get(key)
        if cached:
            return cached

    token, lifetime = _request_token(connection)
    margin = min(TOKEN_EXPIRY_MARGIN_SECONDS, lifetime / 2)
    if lifetime - margin > 0:
        cache.set(key, token, timeout=lifetime - margin)
    logger.info(
        "oauth2 token obtained",
        extra={"connection": connection.code, "expires_in": lifetime},
    )
    return token


def oauth2_forget_token(*, connection: Connection) -> None:
    """Drop a connection's cached token (the receiver refused it)."""
    cache.delete(_token_cache_key(connection))


def _token_cache_key(connection: Connection) -> str:
    material = "\n".join(
        [
            connection.oauth_token_url,
            connection.oauth_client_id,
            connection.outbound_secret,
            connection.oauth_scope,
        ]
    )
    digest = hashlib.sha256(material.encode()).hexdigest()[:32]
    return f"outbound-oauth2:{connection.pk}:{digest}"


def _request_token(connection: Connection) -> tuple[str, float]:
    """Run the client-credentials grant; return (access token, lifetime in s)."""
    if not (connection.oauth_token_url and connection.oauth_client_id):
        raise OutboundAuthError("OAuth2 needs a token URL and a client id")
    data = {"grant_type": "client_credentials"}
    if connection.oauth_scope:
        data["scope"] = connection.oauth_scope
    try:
        # RFC 6749 §2.3.1: the client authenticates with HTTP Basic.
        response = requests.post(
            connection.oauth_token_url,
            data=data,
            auth=(connection.oauth_client_id, connection.outbound_secret),
            timeout=connection.timeout_seconds,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise OutboundAuthError(
            f"OAuth2 token request failed: {type(exc).__name__}"
        ) from exc
    return _read_token(response)


def _read_token(response: requests.Response) -> tuple[str, float]:
    if response.status_code != 200:
        # The body may echo the credentials back, so only the status is kept.
        raise OutboundAuthError(
            f"OAuth2 token endpoint answered HTTP {response.status_code}"
        )
    try:
        payload = response.json()
        token = str(payload["access_token"])
        lifetime = float(payload.get("expires_in") or 0)
    except (ValueError, KeyError, TypeError) as exc:
        raise OutboundAuthError(
            "OAuth2 token endpoint answered without an access_token"
        ) from exc
    if not token:
        raise OutboundAuthError("OAuth2 token endpoint answered an empty token")
    return token, lifetime
