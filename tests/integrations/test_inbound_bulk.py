"""The bulk inbound endpoint: JSON arrays and NDJSON with per-item results."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.test import Client

from integrations import signing
from integrations.models import Connection, InboundMessage

pytestmark = pytest.mark.django_db


def post_batch(
    connection: Connection, raw: bytes, content_type: str = "application/json"
):
    headers = signing.signed_headers(
        connection.inbound_secret, str(uuid.uuid4()), raw, now=time.time()
    )
    return Client().post(
        f"/integrations/inbound/{connection.code}/bulk/",
        data=raw,
        content_type=content_type,
        headers=headers,
    )


@pytest.fixture
def tms(seeded) -> Connection:
    return Connection.objects.get(code="tms")


def test_json_array_stores_one_message_per_item_and_reports_each(tms):
    items = [{"id": f"e{n}", "type": "shipment.milestone", "n": n} for n in range(3)]

    response = post_batch(tms, json.dumps(items).encode())

    stored = dict(InboundMessage.objects.values_list("message_id", "pk"))
    assert response.status_code == 202
    assert response.json() == {
        "accepted": 3,
        "results": [
            {
                "index": n,
                "id": f"e{n}",
                "status": "accepted",
                "message_id": stored[f"e{n}"],
            }
            for n in range(3)
        ],
    }
    assert (
        json.loads(bytes(InboundMessage.objects.get(message_id="e1").body)) == items[1]
    )


def test_ndjson_keeps_each_line_as_sent_and_repeats_are_duplicates(tms):
    lines = [b'{"id": "a", "x": 1}', b'{"id": "b", "x": 2}', b'{"id": "a", "x": 1}']

    first = post_batch(tms, b"\n".join(lines) + b"\n", "application/x-ndjson")
    again = post_batch(tms, b"\n".join(lines[:2]), "application/x-ndjson")

    a = InboundMessage.objects.get(message_id="a")
    assert bytes(a.body) == b'{"id": "a", "x": 1}'
    assert [r["status"] for r in first.json()["results"]] == [
        "accepted",
        "accepted",
        "duplicate",
    ]
    assert first.json()["results"][2]["message_id"] == a.pk
    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert InboundMessage.objects.count() == 2


@pytest.mark.parametrize(
    "raw,detail",
    [
        (b'{"id": "x"}', "a JSON batch must be an array"),
        (
            b"[1, 2",
            "the batch is not valid JSON: Expecting ',' delimiter: line 1 column 6 (char 5)",
        ),
        (b"[]", "a batch holds 1 to 1000 items"),
        (b'[{"id": "ok"}, {"type": "no id"}]', "item 1 has no id"),
        (
            b'[{"id": "' + b"x" * 201 + b'"}]',
            "item 0 has an id over 200 characters",
        ),
    ],
)
def test_malformed_batch_is_refused_whole_with_a_reason(tms, raw, detail):
    response = post_batch(tms, raw)

    assert response.status_code == 400
    assert response.json()["detail"] == detail
    assert InboundMessage.objects.count() == 0


def test_batch_over_the_item_limit_is_refused(tms, settings):
    settings.WAYBILL_INBOUND_BATCH_MAX_ITEMS = 2
    raw = json.dumps([{"id": str(n)} for n in range(3)]).encode()

    assert post_batch(tms, raw).json()["detail"] == "a batch holds 1 to 2 items"


@pytest.mark.parametrize(
    "raw",
    [
        b'[{"id": "big", "n": ' + b"9" * 5000 + b"}]",
        b'[{"id": "deep", "n": ' + b"[" * 100000 + b"]" * 100000 + b"}]",
    ],
)
def test_oversized_numbers_and_deep_nesting_are_refused_with_400(tms, raw):
    response = post_batch(tms, raw)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("the batch is not valid JSON: ")
    assert InboundMessage.objects.count() == 0
