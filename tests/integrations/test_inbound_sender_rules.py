"""Who may send what: event types per connection kind, carrier scope, future scans."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from integrations.models import CanonicalEvent, Connection, InboundMessage
from integrations.validation import connection_may_send
from masterdata.models import Carrier
from orders.models import Order
from shipments.models import Shipment
from tests.integrations.events import cloudevent, tms_milestone
from tests.integrations.helpers import deliver
from tests.integrations.shipping import shipment_in_flight


def _carrier_scan(tracking: str, code: str, occurred_at: str, **scan) -> dict:
    return {
        "tracking_number": tracking,
        "events": [{"code": code, "occurred_at": occurred_at, **scan}],
    }


def _iso_in(hours: float) -> str:
    moment = timezone.now() + dt.timedelta(hours=hours)
    return moment.replace(microsecond=0).isoformat()


def test_tms_may_not_release_an_invoice(seeded):
    shipment = shipment_in_flight("SH-INV", tracking="1ZINV")
    invoice = {
        "order_number": shipment.order.number,
        "invoice_number": "INV-1",
        "amount": "10.00",
        "currency": "USD",
    }

    message = deliver(
        "tms",
        cloudevent(
            "invoice.released",
            "INV-1",
            invoice,
            source="tms/sim",
            time="2025-03-02T10:00:00Z",
        ),
    )

    assert message.state == InboundMessage.State.NEEDS_ATTENTION
    assert message.error == "tms (tms) may not send invoice.released"
    assert Order.objects.get(pk=shipment.order_id).status == Order.Status.PACKED
    assert CanonicalEvent.objects.filter(type="invoice.released").exists() is False


def _connection(kind: str, protocol: str = Connection.Protocol.HTTP_JSON):
    return Connection(code=f"{kind}-x", kind=kind, protocol=protocol)


@pytest.mark.parametrize(
    ("kind", "event_type", "allowed"),
    [
        ("carrier", "shipment.delivered", True),
        ("carrier", "freight.invoiced", True),
        ("carrier", "shipment.planned", False),
        ("erp", "masterdata.item.upserted", True),
        ("erp", "order.released", True),
        ("erp", "shipment.milestone", False),
        ("wms", "return.received", True),
        ("wms", "order.released", False),
        ("tms", "shipment.planned", True),
        ("tms", "invoice.released", False),
        ("partner", "order.released", False),
        ("partner", "shipment.milestone", False),
    ],
)
def test_http_connection_may_send_only_its_kinds_event_types(kind, event_type, allowed):
    connection = _connection(kind)

    assert connection_may_send(connection=connection, event_type=event_type) is (
        allowed
    )


@pytest.mark.parametrize(
    ("kind", "protocol", "event_type"),
    [
        ("carrier", "x12_file", "x12.acknowledged"),
        ("carrier", "edifact", "shipment.packed"),
        ("wms", "x12_file", "order.released"),
    ],
)
def test_file_drop_connections_may_send_any_document_type(kind, protocol, event_type):
    connection = _connection(kind, protocol)

    assert connection_may_send(connection=connection, event_type=event_type) is True


def test_carrier_may_not_deliver_a_shipment_another_carrier_carries(seeded):
    shipment = shipment_in_flight("SH-RDWY", tracking="PRO-77")
    shipment.carrier = Carrier.objects.get(scac="RDWY")
    shipment.save(update_fields=["carrier"])

    message = deliver(
        "carrier-crx", _carrier_scan("PRO-77", "DLV", "2025-03-02T10:00:00Z")
    )

    shipment.refresh_from_db()
    assert message.state == InboundMessage.State.NEEDS_ATTENTION
    assert message.error == (
        "shipment.delivered PRO-77: shipment SH-RDWY travels with carrier RDWY; "
        "carrier-crx (SCAC CRX) may not move it"
    )
    assert shipment.status == "carrier_assigned"
    assert shipment.events.count() == 0


@pytest.mark.parametrize("scac", ["CRX", None])
def test_carrier_moves_its_own_shipment_or_one_with_no_carrier_yet(seeded, scac):
    shipment = shipment_in_flight("SH-OWN", tracking="CRX-1")
    if scac:
        shipment.carrier = Carrier.objects.get(scac=scac)
        shipment.save(update_fields=["carrier"])

    message = deliver("carrier-crx", _carrier_scan("CRX-1", "DLV", "2025-03-02T10:00Z"))

    shipment.refresh_from_db()
    assert message.state == InboundMessage.State.PROCESSED
    assert shipment.status == "delivered"


def test_actual_scan_years_ahead_is_refused_as_invalid_value(seeded):
    shipment = shipment_in_flight("SH-2030", tracking="CRX-2030")

    message = deliver(
        "carrier-crx", _carrier_scan("CRX-2030", "DLV", "2030-06-01T12:00:00Z")
    )

    shipment.refresh_from_db()
    assert message.state == InboundMessage.State.NEEDS_ATTENTION
    assert message.error == (
        "shipment.delivered CRX-2030: actual milestone at "
        "2030-06-01T12:00:00+00:00 is more than 24 h in the future; "
        "only an estimate may lie ahead"
    )
    assert shipment.status == "carrier_assigned"
    assert CanonicalEvent.objects.get(subject="CRX-2030").state == "needs_attention"


def test_actual_scan_a_little_ahead_passes_within_the_skew(seeded, settings):
    settings.WAYBILL_MAX_FUTURE_SKEW_HOURS = 24
    shipment_in_flight("SH-SKEW", tracking="CRX-SKEW")

    message = deliver("carrier-crx", _carrier_scan("CRX-SKEW", "IT", _iso_in(2)))

    assert message.state == InboundMessage.State.PROCESSED


def test_future_skew_follows_its_setting(seeded, settings):
    settings.WAYBILL_MAX_FUTURE_SKEW_HOURS = 1
    shipment_in_flight("SH-TIGHT", tracking="CRX-TIGHT")

    message = deliver("carrier-crx", _carrier_scan("CRX-TIGHT", "IT", _iso_in(2)))

    assert message.state == InboundMessage.State.NEEDS_ATTENTION
    assert "is more than 1 h in the future" in message.error


def test_estimate_may_lie_in_the_future(seeded):
    shipment = shipment_in_flight("SH-EST", tracking="EST-1")
    ahead = _iso_in(24 * 30)

    message = deliver(
        "tms",
        tms_milestone(
            "SH-EST",
            "OUT_FOR_DELIVERY",
            ahead,
            event_id="est-1",
            kind="estimated",
            eta=ahead,
        ),
    )

    shipment.refresh_from_db()
    assert message.state == InboundMessage.State.PROCESSED, message.error
    assert shipment.status == "carrier_assigned"
    assert shipment.events.get().kind == "estimated"


def test_refused_type_leaves_the_other_events_of_a_batch_applied(seeded):
    shipment_in_flight("SH-MIX", tracking="MIX-1")
    batch = [
        tms_milestone("SH-MIX", "PICKUP", "2025-03-02T09:00:00Z", event_id="m-1"),
        cloudevent(
            "order.released",
            "SO-NOPE",
            {"order_number": "SO-NOPE", "account_number": "ACME"},
            source="tms/sim",
            time="2025-03-02T09:00:00Z",
        ),
    ]

    message = deliver("tms", json.dumps(batch).encode())

    assert message.error == "tms (tms) may not send order.released"
    assert Shipment.objects.get(number="SH-MIX").status == "picked_up"
    assert Order.objects.filter(number="SO-NOPE").exists() is False
