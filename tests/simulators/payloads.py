"""Event data the tests send to the simulators, shaped as the hub sends it."""

from __future__ import annotations

import copy

SHIP_TO = {
    "name": "Acme Retail DC",
    "line1": "100 Commerce Way",
    "city": "Columbus",
    "state": "OH",
    "postal_code": "43004",
    "country": "US",
}


def order_released(number: str = "SO-1001") -> dict:
    """Return ``order.released`` data as the ERP sends it."""
    return {
        "order_number": number,
        "account_number": "ACME",
        "po_number": "PO-ACME-7000",
        "ship_from": "DC-EAST",
        "ship_to": "MAIN",
        "requested_date": "2026-12-10",
        "lines": [
            {"line_number": 1, "sku": "SKU-A", "quantity": "3", "unit": "EA"},
            {"line_number": 2, "sku": "SKU-B", "quantity": "2", "unit": "CS"},
        ],
    }


def fulfilment_requested(number: str = "SO-1001") -> dict:
    """Return ``fulfilment.requested`` data as the hub sends it to the WMS."""
    return {
        "order_number": number,
        "account_number": "ACME",
        "ship_from": "DC-EAST",
        "ship_to": copy.deepcopy(SHIP_TO),
        "requested_date": "2026-12-10",
        "lines": [
            {"line_number": 1, "sku": "SKU-A", "quantity": "3", "unit": "EA"},
            {"line_number": 2, "sku": "SKU-B", "quantity": "2.500", "unit": "EA"},
        ],
    }


def plan_requested(number: str = "SO-1001", *, ship_to: dict | None = None) -> dict:
    """Return ``shipment.plan_requested`` data as the hub sends it to the TMS."""
    return {
        "shipment_number": f"SH-{number}",
        "order_number": number,
        "ship_from": {
            "code": "DC-EAST",
            "city": "Newark",
            "state": "NJ",
            "country": "US",
            "time_zone": "America/New_York",
        },
        "ship_to": ship_to or {k: v for k, v in SHIP_TO.items() if k != "line1"},
        "packages": [
            {
                "sscc": "106141412345678908",
                "weight_kg": "4.150",
                "length_cm": "40.0",
                "width_cm": "30.0",
                "height_cm": "30.0",
            },
            {
                "sscc": "006141411234567890",
                "weight_kg": "3.525",
                "length_cm": "40.0",
                "width_cm": "30.0",
                "height_cm": "30.0",
            },
        ],
    }
