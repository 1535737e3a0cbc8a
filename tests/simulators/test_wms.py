"""The stand-in WMS: fulfilment requests become allocated, picked and packed."""

from __future__ import annotations

from integrations.simulators.wms import gs1_check_digit, sscc_for
from tests.simulators.payloads import fulfilment_requested


def test_fulfilment_request_is_allocated_picked_and_packed(start_simulator, hub):
    wms = start_simulator("wms")

    wms.deliver("fulfilment.requested", fulfilment_requested())
    events = hub.wait_for_accepted(3)

    assert [(e["type"], e["subject"], e["correlationid"]) for e in events] == [
        ("order.allocated", "SO-1001", "SO-1001"),
        ("order.picked", "SO-1001", "SO-1001"),
        ("shipment.packed", "SO-1001", "SO-1001"),
    ]
    assert [e["data"] for e in events] == [
        {"order_number": "SO-1001"},
        {"order_number": "SO-1001"},
        {
            "order_number": "SO-1001",
            "shipment_number": "SH-SO-1001",
            "ship_from": "DC-EAST",
            "packages": [
                {
                    "sscc": "006141419075862785",
                    "weight_kg": "4.150",
                    "length_cm": "40.0",
                    "width_cm": "30.0",
                    "height_cm": "30.0",
                },
                {
                    "sscc": "006141411207235887",
                    "weight_kg": "3.525",
                    "length_cm": "40.0",
                    "width_cm": "30.0",
                    "height_cm": "30.0",
                },
            ],
            "lines": [
                {"line_number": 1, "sku": "SKU-A", "quantity": "3"},
                {"line_number": 2, "sku": "SKU-B", "quantity": "2.500"},
            ],
        },
    ]
    assert len({e["id"] for e in events}) == 3
    assert {e["source"] for e in events} == {"wms/wms"}


def test_fulfilment_request_without_lines_is_refused_with_422(start_simulator, hub):
    wms = start_simulator("wms")
    request = fulfilment_requested()
    request["lines"] = []

    response = wms.deliver("fulfilment.requested", request, key="k")

    assert response.status_code == 422
    assert response.json() == {
        "error": "fulfilment.requested needs order_number and lines"
    }
    assert (wms.state()["pending"], wms.state()["received"]) == (0, {})


def test_refused_request_can_be_sent_again_under_the_same_key(start_simulator):
    wms = start_simulator("wms")
    bad = fulfilment_requested()
    bad["lines"][1]["quantity"] = "lots"

    refused = wms.deliver("fulfilment.requested", bad, key="k")
    accepted = wms.deliver("fulfilment.requested", fulfilment_requested(), key="k")

    assert refused.status_code == 422
    assert refused.json() == {"error": "line 2 quantity is not a positive number"}
    assert accepted.status_code == 202


def test_sscc_has_18_digits_from_the_company_prefix_and_a_check_digit():
    sscc = sscc_for("SO-1:1")

    assert len(sscc) == 18 and sscc.isdigit()
    assert sscc.startswith("00614141")
    assert sscc[-1] == gs1_check_digit(sscc[:-1])
    assert sscc_for("SO-1:1") == sscc
    assert sscc_for("SO-1:2") != sscc


def test_gs1_check_digit_matches_the_gs1_sscc_example():
    assert gs1_check_digit("10614141234567890") == "8"
    assert gs1_check_digit("00614141123456789") == "0"
