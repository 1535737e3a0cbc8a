"""Carrier tracking webhooks end to end through the hub's database (CASES B01–B06)."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest

from api.models import WebhookSubscription
from integrations.models import CodeMapping, Connection, InboundMessage, OutboxMessage
from integrations.services import inbound_message_process, inbound_message_replay
from operations.models import ExceptionCase
from orders.models import CustomerAccount
from tests.integrations.helpers import deliver
from tests.integrations.shipping import shipment_in_flight

pytestmark = pytest.mark.django_db


def webhook(tracking: str, *events: dict) -> dict:
    return {"tracking_number": tracking, "events": list(events)}


def test_unmapped_carrier_code_waits_for_a_mapping_then_delivers_on_replay(seeded):
    shipment = shipment_in_flight(
        "SH-101", tracking="CRX000111222", status="out_for_delivery"
    )
    body = webhook(
        "CRX000111222",
        {
            "id": "ev-9",
            "code": "DLV2",
            "description": "Handed to recipient",
            "occurred_at": "2025-03-04T18:02:00Z",
        },
    )

    message = deliver("carrier-crx", body)

    shipment.refresh_from_db()
    case = ExceptionCase.objects.get(inbound_message=message)
    assert shipment.status == "out_for_delivery"
    assert message.state == "needs_attention"
    assert message.error == "unmapped carrier code DLV2 (carrier CRX)"
    assert (case.kind, case.state) == ("unmapped_code", "open")

    CodeMapping.objects.create(
        source="carrier-crx",
        category="shipment_status",
        external_code="DLV2",
        canonical_value="delivered",
    )
    inbound_message_replay(message_ids=[message.pk])
    inbound_message_process(message_id=message.pk)

    shipment.refresh_from_db()
    case.refresh_from_db()
    assert shipment.status == "delivered"
    assert shipment.delivered_at == dt.datetime(2025, 3, 4, 18, 2, tzinfo=dt.UTC)
    assert case.state == "resolved"


def test_label_created_is_at_most_carrier_assigned_and_can_still_be_cancelled(seeded):
    shipment = shipment_in_flight("SH-102", tracking="CRX000333444", status="planned")
    label = {"id": "l1", "code": "LBL", "description": "Label created, awaiting pickup"}

    deliver(
        "carrier-crx",
        webhook("CRX000333444", {**label, "occurred_at": "2025-03-04T09:00:00Z"}),
    )
    shipment.refresh_from_db()
    assert shipment.status == "carrier_assigned"

    cancel = {"id": "c1", "code": "CXL", "occurred_at": "2025-03-04T10:00:00Z"}
    deliver("carrier-crx", webhook("CRX000333444", cancel))
    shipment.refresh_from_db()
    assert shipment.status == "cancelled"


def test_repeated_pushes_and_re_polled_history_add_each_event_once(seeded, post_signed):
    crx = Connection.objects.get(code="carrier-crx")
    other = Connection.objects.create(
        code="carrier-b",
        name="Carrier B",
        kind="carrier",
        scac="CRB",
        inbound_secret="b-secret",
    )
    CodeMapping.objects.create(
        source="carrier-b",
        category="shipment_status",
        external_code="X6",
        canonical_value="in_transit",
    )
    partner = Connection.objects.create(
        code="partner-1", name="Partner", kind="partner", base_url="http://127.0.0.1:9"
    )
    WebhookSubscription.objects.create(
        partner=partner,
        account=CustomerAccount.objects.get(number="ACME"),
        event_type="shipment.milestone",
    )
    first = shipment_in_flight("SH-201", tracking="CRX1")
    second = shipment_in_flight("SH-202", tracking="CRB1")
    scans = [
        {"id": f"E{n}", "code": code, "occurred_at": f"2025-03-0{n}T10:00:00Z"}
        for n, code in [(1, "PU"), (2, "IT"), (3, "OFD"), (4, "DLV")]
    ]

    answers = [post_signed(crx, webhook("CRX1", *scans[:3])) for _ in range(3)]
    poll = post_signed(crx, webhook("CRX1", *scans))
    idless = {
        "code": "X6",
        "occurred_at": "2025-03-03T10:00:00-05:00",
        "city": "Albany",
    }
    post_signed(other, webhook("CRB1", idless))
    post_signed(other, {**webhook("CRB1", idless), "sent_at": "again"})
    for message in InboundMessage.objects.order_by("pk"):
        inbound_message_process(message_id=message.pk)

    ids = {answer.json()["message_id"] for answer in answers}
    assert [answer.status_code for answer in answers] == [202, 200, 200]
    assert len(ids) == 1
    assert poll.status_code == 202
    assert first.events.count() == 4
    assert second.events.count() == 1
    assert (
        OutboxMessage.objects.filter(
            destination=partner, type="shipment.milestone"
        ).count()
        == 5
    )


ARRIVALS = [
    ("DLV", "2025-03-04T18:02:00Z"),
    ("OFD", "2025-03-04T08:10:00Z"),
    ("IT", "2025-03-03T22:00:00Z"),
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_older_events_arriving_late_never_move_the_status_back(seeded, order):
    shipment = shipment_in_flight("SH-103", tracking="CRX103")

    for index in order:
        code, occurred_at = ARRIVALS[index]
        deliver(
            "carrier-crx",
            webhook("CRX103", {"id": code, "code": code, "occurred_at": occurred_at}),
        )

    shipment.refresh_from_db()
    changes = [
        message.payload["status"]
        for message in OutboxMessage.objects.filter(
            type="shipment.status_changed"
        ).order_by("pk")
    ]
    assert shipment.status == "delivered"
    assert list(shipment.events.values_list("status", flat=True)) == [
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert changes.count("delivered") == 1
    assert changes[-1] == "delivered"  # no change back after delivery


def test_tie_in_event_time_is_resolved_by_rank(seeded):
    shipment = shipment_in_flight("SH-104", tracking="CRX104")
    same_time = "2025-03-05T12:00:00Z"

    deliver(
        "carrier-crx",
        webhook(
            "CRX104",
            {"id": "a", "code": "DLV", "occurred_at": same_time},
            {"id": "b", "code": "OFD", "occurred_at": same_time},
        ),
    )

    shipment.refresh_from_db()
    assert shipment.status == "delivered"


def test_one_malformed_timestamp_quarantines_that_event_only(seeded):
    shipment = shipment_in_flight("SH-105", tracking="CRX105")
    times = [
        "2024-08-15T00:00:00",
        "2024-08-16T10:15:00-05:00",
        "2026-04-17T23:43:17.6571145",
        "2024-08-17T08:00:00Z",
        "N/A",
    ]
    events = [
        {
            "id": f"t{n}",
            "code": "IT",
            "occurred_at": value,
            "city": "Denver",
            "state": "CO",
            "country": "US",
        }
        for n, value in enumerate(times)
    ]
    events[2].pop("city")
    events[2].pop("state")
    events[2].pop("country")

    message = deliver("carrier-crx", json.dumps(webhook("CRX105", *events)).encode())

    shipment.refresh_from_db()
    history = list(
        shipment.events.order_by("occurred_at").values_list("occurred_at", "tz_source")
    )
    assert message.state == "needs_attention"
    assert message.error == "event 4: occurred_at 'N/A' is not a timestamp"
    assert history == [
        (dt.datetime(2024, 8, 15, 6, 0, tzinfo=dt.UTC), "location"),
        (dt.datetime(2024, 8, 16, 15, 15, tzinfo=dt.UTC), "payload"),
        (dt.datetime(2024, 8, 17, 8, 0, tzinfo=dt.UTC), "payload"),
        (dt.datetime(2026, 4, 17, 23, 43, 17, 657114, tzinfo=dt.UTC), "assumed"),
    ]
    assert shipment.status == "in_transit"


def test_local_times_without_offset_are_read_where_the_scan_happened(seeded):
    shipment = shipment_in_flight("SH-106", tracking="1ZB06")
    activities = [
        {
            "date": "20250310",
            "time": "091500",
            "location": {"city": city, "stateProvince": state, "country": "US"},
            "status": {"type": "I", "code": "IT", "description": "In transit"},
        }
        for city, state in [("Denver", "CO"), ("Phoenix", "AZ")]
    ]
    activities.append(
        {
            **activities[0],
            "gmtDate": "20250310",
            "gmtTime": "15:15:00",
            "gmtOffset": "-06:00",
            "status": {"type": "X", "code": "XX", "description": "Delay"},
        }
    )
    CodeMapping.objects.get_or_create(
        source="carrier-crx",
        category="shipment_status",
        external_code="I",
        defaults={"canonical_value": "in_transit"},
    )
    CodeMapping.objects.get_or_create(
        source="carrier-crx",
        category="shipment_status",
        external_code="X",
        defaults={"canonical_value": "exception"},
    )

    deliver("carrier-crx", {"tracking_number": "1ZB06", "activities": activities})

    rows = list(
        shipment.events.order_by("id").values_list("city", "occurred_at", "tz_source")
    )
    assert rows == [
        ("Denver", dt.datetime(2025, 3, 10, 15, 15, tzinfo=dt.UTC), "location"),
        ("Phoenix", dt.datetime(2025, 3, 10, 16, 15, tzinfo=dt.UTC), "location"),
        ("Denver", dt.datetime(2025, 3, 10, 15, 15, tzinfo=dt.UTC), "payload"),
    ]
