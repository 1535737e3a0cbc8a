"""Milestones: the projection, late and reordered events, exceptions, delivery."""

from __future__ import annotations

import base64
import itertools

import pytest

from integrations.models import OutboxMessage
from operations.models import ExceptionCase
from orders.models import Order
from shipments.models import Document, ServiceAlert
from tests.integrations.events import cloudevent, tms_milestone
from tests.integrations.helpers import deliver
from tests.integrations.shipping import packed_shipment

pytestmark = pytest.mark.django_db

PDF = base64.b64encode(b"%PDF-1.4 demo pod").decode()


def test_packed_shipment_asks_the_tms_to_plan_it(seeded):
    shipment = packed_shipment()

    plan = OutboxMessage.objects.get(type="shipment.plan_requested")
    assert shipment.status == "planned"
    assert shipment.packages.get().sscc == "003456789012345675"
    assert plan.destination.code == "tms"
    assert plan.payload["packages"] == [
        {
            "sscc": "003456789012345675",
            "weight_kg": "2.500",
            "length_cm": "",
            "width_cm": "",
            "height_cm": "",
        }
    ]
    assert Order.objects.get(number="SO-1").status == "packed"


def test_planned_shipment_records_carrier_tracking_eta_and_confirms_to_erp(seeded):
    shipment = packed_shipment()
    planned = {
        "shipment_number": shipment.number,
        "carrier_scac": "FXFE",
        "service_code": "GROUND",
        "tracking_numbers": ["FX123"],
        "eta": "2025-03-05T17:00:00-05:00",
        "freight_estimate": "123.45",
        "currency": "USD",
    }

    deliver(
        "tms",
        cloudevent(
            "shipment.planned",
            shipment.number,
            planned,
            source="tms/sim",
            time="2025-03-01T13:00:00Z",
        ),
    )

    shipment.refresh_from_db()
    confirmation = OutboxMessage.objects.get(type="shipment.confirmed")
    assert (shipment.carrier.scac, shipment.service.code) == ("FXFE", "GROUND")
    assert shipment.tracking_numbers == ["FX123"]
    assert shipment.eta.isoformat() == "2025-03-05T22:00:00+00:00"
    assert str(shipment.freight_estimate) == "123.45"
    assert shipment.eta_revisions.count() == 1
    assert confirmation.payload["tracking_numbers"] == ["FX123"]


STREAM = [
    ("PICKUP", "2025-03-03T08:00:00Z", "e1"),
    ("DEPARTED", "2025-03-03T22:00:00Z", "e2"),
    ("OUT_FOR_DELIVERY", "2025-03-04T08:10:00Z", "e3"),
]


@pytest.mark.parametrize("arrival", list(itertools.permutations(STREAM)))
def test_any_arrival_order_of_three_milestones_gives_the_same_status_and_history(
    seeded, arrival
):
    shipment = packed_shipment()

    for code, occurred_at, event_id in arrival:
        deliver(
            "tms", tms_milestone(shipment.number, code, occurred_at, event_id=event_id)
        )

    shipment.refresh_from_db()
    history = list(shipment.events.values_list("status", "occurred_at"))
    assert shipment.status == "out_for_delivery"
    assert shipment.last_actual_at.isoformat() == "2025-03-04T08:10:00+00:00"
    assert [status for status, _ in history] == [
        "picked_up",
        "in_transit",
        "out_for_delivery",
    ]
    assert Order.objects.get(number="SO-1").status == "shipped"


def test_late_older_events_never_move_a_delivered_shipment_back(seeded):
    shipment = packed_shipment()
    arrivals = [
        ("DELIVERED", "2025-03-04T18:02:00Z", "d"),
        ("OUT_FOR_DELIVERY", "2025-03-04T08:10:00Z", "o"),
        ("DEPARTED", "2025-03-03T22:00:00Z", "t"),
    ]

    for code, occurred_at, event_id in arrivals:
        deliver(
            "tms", tms_milestone(shipment.number, code, occurred_at, event_id=event_id)
        )

    shipment.refresh_from_db()
    changes = list(
        OutboxMessage.objects.filter(type="shipment.status_changed").values_list(
            "payload__status", flat=True
        )
    )
    assert shipment.status == "delivered"
    assert shipment.delivered_at.isoformat() == "2025-03-04T18:02:00+00:00"
    assert list(shipment.events.values_list("status", flat=True)) == [
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert changes == ["delivered"]


def test_tie_in_event_time_resolves_by_rank(seeded):
    shipment = packed_shipment()

    deliver(
        "tms",
        tms_milestone(
            shipment.number, "DELIVERED", "2025-03-05T12:00:00Z", event_id="a"
        ),
    )
    deliver(
        "tms",
        tms_milestone(
            shipment.number, "OUT_FOR_DELIVERY", "2025-03-05T12:00:00Z", event_id="b"
        ),
    )

    shipment.refresh_from_db()
    assert shipment.status == "delivered"


def test_delivery_stores_the_pod_and_asks_the_erp_to_release_the_invoice(seeded):
    shipment = packed_shipment()
    pod = {
        "filename": "pod.pdf",
        "content_type": "application/pdf",
        "content_base64": PDF,
    }

    deliver(
        "tms",
        tms_milestone(
            shipment.number,
            "DELIVERED",
            "2025-03-04T18:02:00Z",
            event_id="d",
            signed_by="R. Doe",
            pod=pod,
        ),
    )

    shipment.refresh_from_db()
    document = Document.objects.get(kind="pod")
    request = OutboxMessage.objects.get(type="invoice.release_requested")
    assert shipment.pod_signed_by == "R. Doe"
    assert (document.number, document.size, document.content_type) == (
        f"POD-{shipment.number}",
        17,
        "application/pdf",
    )
    assert document.file.read() == b"%PDF-1.4 demo pod"
    assert request.payload == {
        "order_number": "SO-1",
        "shipment_number": shipment.number,
        "delivered_at": "2025-03-04T18:02:00+00:00",
    }
    assert Order.objects.get(number="SO-1").status == "delivered"


def test_invoice_released_puts_the_invoice_on_the_portal_and_closes_the_chain(seeded):
    shipment = packed_shipment()
    deliver(
        "tms",
        tms_milestone(
            shipment.number, "DELIVERED", "2025-03-04T18:02:00Z", event_id="d"
        ),
    )
    invoice = {
        "order_number": "SO-1",
        "invoice_number": "INV-SO-1",
        "amount": "99.10",
        "currency": "USD",
        "document": {
            "filename": "INV-SO-1.pdf",
            "content_type": "application/pdf",
            "content_base64": PDF,
        },
    }

    deliver(
        "erp",
        cloudevent(
            "invoice.released",
            "SO-1",
            invoice,
            source="erp/sim",
            time="2025-03-05T09:00:00Z",
        ),
    )

    assert Order.objects.get(number="SO-1").status == "invoiced"
    assert Document.objects.get(kind="invoice").number == "INV-SO-1"


def test_delivery_exception_alerts_the_customer_opens_a_case_and_flags_the_erp_order(
    seeded,
):
    shipment = packed_shipment()
    deliver(
        "tms",
        tms_milestone(
            shipment.number, "DEPARTED", "2025-03-03T22:00:00Z", event_id="t"
        ),
    )

    deliver(
        "tms",
        tms_milestone(
            shipment.number,
            "DELAY",
            "2025-03-04T06:00:00Z",
            event_id="x",
            reason_code="weather",
        ),
    )

    shipment.refresh_from_db()
    alert = ServiceAlert.objects.get()
    case = ExceptionCase.objects.get(kind="delivery_exception")
    flag = OutboxMessage.objects.get(type="order.flagged")
    assert (shipment.status, shipment.exception_reason) == ("exception", "weather")
    assert alert.message == "Severe weather is delaying this shipment."
    assert alert.order.number == "SO-1"
    assert case.sla_due_at is not None
    assert flag.payload["reason_code"] == "weather"
    assert Order.objects.get(number="SO-1").erp_flagged is True


def test_later_milestone_clears_the_exception_and_its_alert(seeded):
    shipment = packed_shipment()
    deliver(
        "tms",
        tms_milestone(
            shipment.number,
            "DELAY",
            "2025-03-04T06:00:00Z",
            event_id="x",
            reason_code="weather",
        ),
    )

    deliver(
        "tms",
        tms_milestone(
            shipment.number, "OUT_FOR_DELIVERY", "2025-03-05T08:00:00Z", event_id="o"
        ),
    )

    shipment.refresh_from_db()
    assert (shipment.status, shipment.exception_reason) == ("out_for_delivery", "")
    assert ServiceAlert.objects.get().cleared_at is not None


def test_unmapped_tms_code_needs_attention_and_applies_after_the_mapping_is_added(
    seeded,
):
    from integrations.models import CodeMapping, InboundMessage
    from integrations.services import inbound_message_process, inbound_message_replay

    shipment = packed_shipment()
    message = deliver(
        "tms",
        tms_milestone(
            shipment.number, "HANDED_OVER", "2025-03-04T18:02:00Z", event_id="h"
        ),
    )
    assert message.state == "needs_attention"
    assert message.error == "unmapped TMS status code HANDED_OVER"

    CodeMapping.objects.create(
        source="tms",
        category="shipment_status",
        external_code="HANDED_OVER",
        canonical_value="delivered",
    )
    assert inbound_message_replay(message_ids=[message.pk]) == 1
    inbound_message_process(message_id=message.pk)

    shipment.refresh_from_db()
    assert InboundMessage.objects.get(pk=message.pk).state == "processed"
    assert shipment.status == "delivered"
    assert ExceptionCase.objects.get(inbound_message=message).state == "resolved"


def test_milestone_for_an_unknown_shipment_needs_attention_with_the_reference(seeded):
    message = deliver(
        "tms", tms_milestone("SH-NOPE", "PICKUP", "2025-03-04T08:00:00Z", event_id="p")
    )

    assert message.state == "needs_attention"
    assert message.error == "shipment.milestone SH-NOPE: unknown shipment SH-NOPE"
