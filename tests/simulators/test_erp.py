"""The stand-in ERP: releases orders, records what the hub tells it, invoices."""

from __future__ import annotations

import base64
import time
from decimal import Decimal

from integrations.simulators.erp import invoice_data
from tests.simulators.conftest import wait_until
from tests.simulators.payloads import order_released


def test_control_orders_sends_one_order_released_per_order(start_simulator, hub):
    erp = start_simulator("erp")

    response = erp.control(
        "orders", {"orders": [order_released("SO-1"), order_released("SO-2")]}
    )
    events = hub.wait_for_accepted(2)

    assert response.json() == {"queued": 2}
    assert [(e["type"], e["subject"], e["correlationid"]) for e in events] == [
        ("order.released", "SO-1", "SO-1"),
        ("order.released", "SO-2", "SO-2"),
    ]
    assert [e["data"] for e in events] == [
        order_released("SO-1"),
        order_released("SO-2"),
    ]
    assert erp.state()["released_orders"] == ["SO-1", "SO-2"]


def test_orders_batch_with_a_bad_order_queues_nothing(start_simulator, hub):
    erp = start_simulator("erp")

    response = erp.control("orders", {"orders": [order_released(), {"po": "x"}]})

    assert response.status_code == 400
    assert response.json() == {"error": "order {'po': 'x'} has no order_number"}
    assert (erp.state()["pending"], erp.state()["released_orders"]) == (0, [])


def test_invoice_release_is_answered_with_an_invoice_and_its_pdf(start_simulator, hub):
    erp = start_simulator("erp")
    erp.control("orders", {"orders": [order_released()]})
    hub.wait_for_accepted(1)
    confirmed = {
        "order_number": "SO-1001",
        "shipment_number": "SH-SO-1001",
        "carrier_scac": "RDWY",
        "tracking_numbers": ["5231448484"],
        "freight_estimate": "88.45",
    }
    erp.deliver("shipment.confirmed", confirmed)

    response = erp.deliver(
        "invoice.release_requested",
        {
            "order_number": "SO-1001",
            "shipment_number": "SH-SO-1001",
            "delivered_at": "2026-12-06T09:00:00+00:00",
        },
    )
    invoice = hub.wait_for_accepted(2)[1]

    assert response.status_code == 202
    assert invoice["type"] == "invoice.released"
    document = invoice["data"].pop("document")
    # SKU-A 3 x 18.50 + SKU-B 2 x 6.25 + freight 88.45
    assert invoice["data"] == {
        "order_number": "SO-1001",
        "invoice_number": "INV-SO-1001",
        "amount": "156.45",
        "currency": "USD",
    }
    assert (document["filename"], document["content_type"]) == (
        "INV-SO-1001.pdf",
        "application/pdf",
    )
    assert base64.b64decode(document["content_base64"]).startswith(b"%PDF-")
    assert erp.state()["invoices"] == {"SO-1001": "INV-SO-1001"}


def test_invoice_for_an_order_the_erp_never_released_bills_nothing():
    data = invoice_data("SO-X", order={}, freight=Decimal(0))

    assert (data["invoice_number"], data["amount"], data["currency"]) == (
        "INV-SO-X",
        "0.00",
        "USD",
    )


def test_confirmations_flags_holds_and_status_changes_are_only_recorded(
    start_simulator, hub
):
    erp = start_simulator("erp")
    deliveries = [
        ("shipment.confirmed", {"order_number": "SO-1", "freight_estimate": "10.00"}),
        (
            "order.flagged",
            {"order_number": "SO-1", "reason_code": "weather", "message": "Delayed"},
        ),
        ("order.held", {"order_number": "SO-2", "reasons": ["credit hold"]}),
        ("shipment.status_changed", {"order_number": "SO-1", "status": "in_transit"}),
    ]

    statuses = [erp.deliver(kind, data).status_code for kind, data in deliveries]
    time.sleep(0.2)

    assert statuses == [202, 202, 202, 202]
    received = erp.state()["received"]
    assert {kind: [r["data"] for r in rows] for kind, rows in received.items()} == {
        kind: [data] for kind, data in deliveries
    }
    assert (hub.deliveries, erp.state()["pending"]) == ([], 0)


def test_recorded_type_without_order_number_is_refused(start_simulator):
    erp = start_simulator("erp")

    response = erp.deliver("order.held", {"reasons": ["credit hold"]})

    assert response.status_code == 422
    assert response.json() == {"error": "order.held needs order_number"}
    wait_until(lambda: erp.state()["rejected"] == {"422": 1}, what="the refusal count")


def test_return_authorisation_request_is_answered_with_an_authorisation(
    start_simulator, hub
):
    erp = start_simulator("erp")

    response = erp.deliver(
        "return.authorization_requested",
        {"return_number": "RMA-000042", "order_number": "SO-1", "lines": []},
    )
    answer = hub.wait_for_accepted(1)[0]

    assert response.status_code == 202
    assert (answer["type"], answer["subject"]) == ("return.authorized", "RMA-000042")
    assert answer["data"] == {
        "return_number": "RMA-000042",
        "order_number": "SO-1",
        "decision": "authorized",
        "rma_number": "ERP-RMA-000042",
    }
