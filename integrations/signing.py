"""Webhook signatures in the Standard Webhooks scheme.

The signed content is ``"<webhook-id>.<webhook-timestamp>.<raw body>"``,
HMAC-SHA256 with the shared secret, sent base64-encoded as
``webhook-signature: v1,<digest>``. The hub verifies inbound deliveries this
way and signs what it sends the same way. This module has no Django imports
so the simulators can use it too.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


class SignatureError(Exception):
    """A delivery's signature headers are missing, stale or wrong."""


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` header value for a body."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secret: str, message_id: str, body: bytes, now: float | None = None
) -> dict:
    """Return the three Standard Webhooks headers for a body sent now."""
    timestamp = int(time.time() if now is None else now)
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, message_id, timestamp, body),
    }


def verify(
    secrets: list[str],
    message_id: str,
    timestamp: str,
    signature_header: str,
    body: bytes,
    tolerance: int = 300,
    now: float | None = None,
) -> None:
    """Raise ``SignatureError`` unless one signature matches one secret.

    Compares with ``hmac.compare_digest`` over the raw body bytes; a
    timestamp more than ``tolerance`` seconds from now is refused.
    """
    if not (message_id and timestamp and signature_header):
        raise SignatureError(
            "missing webhook-id, webhook-timestamp or webhook-signature"
        )
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise SignatureError(
            "webhook-timestamp is not a whole number of seconds"
        ) from exc
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        raise SignatureError("webhook-timestamp is outside the accepted window")

    offered = [part for part in signature_header.split(" ") if part.startswith("v1,")]
    for secret in secrets:
        expected = sign(secret, message_id, sent_at, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return
    raise SignatureError("no signature matches")


def accepted_secrets(
    current: str,
    previous: str,
    rotated_at: dt.datetime | None,
    overlap_seconds: int,
    now: dt.datetime | None = None,
) -> list[str]:
    """Return the secrets an inbound delivery may be signed with, newest first.

    After a rotation the previous secret stays valid for ``overlap_seconds``,
    so a sender can switch without losing deliveries. An empty secret is
    never offered: a connection without one accepts no signature at all.
    """
    secrets = [current] if current else []
    if previous and rotated_at is not None:
        moment = dt.datetime.now(dt.UTC) if now is None else now
        if (moment - rotated_at).total_seconds() <= overlap_seconds:
            secrets.append(previous)
    return secrets
