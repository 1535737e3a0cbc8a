"""Inbound signatures are checked over the raw bytes, never re-serialised JSON.

The hub's scheme is Standard Webhooks (DESIGN §7): HMAC-SHA256 over
``"<webhook-id>.<timestamp>.<raw body>"``, which covers the timestamp and raw
body a plainer ``"<timestamp>.<raw body>"`` scheme would sign, plus the id.
"""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from integrations import signing
from integrations.models import Connection, InboundMessage

pytestmark = pytest.mark.django_db

RAW = (
    '{"tracking_number":"1Z999AA10123456784","city":"Zürich",'
    '"note":"dock\\u2028B","weight_kg":1.0}'
).encode()


def _post(connection: Connection, body: bytes, headers: dict) -> int:
    response = Client().post(
        f"/integrations/inbound/{connection.code}/",
        data=body,
        content_type="application/json",
        headers=headers,
    )
    return response.status_code


@pytest.fixture
def carrier(seeded) -> Connection:
    return Connection.objects.get(code="carrier-crx")


def test_re_serialising_the_body_would_change_the_bytes_signed():
    again = json.dumps(json.loads(RAW), separators=(",", ":")).encode()

    assert again != RAW
    assert b"Z\\u00fcrich" in again


def test_the_original_bytes_are_accepted_and_stored_unchanged(carrier):
    headers = signing.signed_headers(carrier.inbound_secret, "b22-1", RAW)

    assert _post(carrier, RAW, headers) == 202
    assert bytes(InboundMessage.objects.get().body) == RAW


@pytest.mark.parametrize("position", [0, 30, len(RAW) // 2, len(RAW) - 1])
def test_changing_any_one_byte_is_refused_with_401(carrier, position):
    headers = signing.signed_headers(carrier.inbound_secret, "b22-2", RAW)
    tampered = bytearray(RAW)
    tampered[position] ^= 0x01

    assert _post(carrier, bytes(tampered), headers) == 401
    assert InboundMessage.objects.count() == 0


def test_a_signature_older_than_five_minutes_is_refused(carrier):
    headers = signing.signed_headers(
        carrier.inbound_secret, "b22-3", RAW, now=time.time() - 301
    )

    assert _post(carrier, RAW, headers) == 401


def test_verification_compares_in_constant_time(monkeypatch, carrier):
    compared = []
    real = signing.hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signing.hmac, "compare_digest", spy)
    headers = signing.signed_headers(carrier.inbound_secret, "b22-4", RAW)

    assert _post(carrier, RAW, headers) == 202
    assert compared
