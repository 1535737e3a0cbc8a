"""Shipments for tests that start mid-journey, made through the ORM."""

from __future__ import annotations

import datetime as dt

from operations.demo import demo_order
from orders.models import CustomerAccount, Order
from shipments.models import Shipment
from tests.integrations.events import cloudevent
from tests.integrations.helpers import deliver


def shipment_in_flight(
    number: str,
    *,
    tracking: str,
    status: str = "carrier_assigned",
    account: str = "ACME",
) -> Shipment:
    """Return an outbound shipment of a released order, as the TMS left it."""
    customer = CustomerAccount.objects.get(number=account)
    order = Order.objects.create(
        account=customer, number=f"SO-{number}", status=Order.Status.PACKED
    )
    return Shipment.objects.create(
        number=number,
        account=customer,
        order=order,
        status=status,
        status_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
        if status != "planned"
        else None,
        tracking_numbers=[tracking],
    )


def packed_shipment(number: str = "SO-1", *, account: str = "ACME") -> Shipment:
    """Release an order and let the WMS pack it; return the shipment."""
    data = demo_order(number=number, account_number=account, index=0)
    deliver(
        "erp",
        cloudevent(
            "order.released",
            number,
            data,
            source="erp/sim",
            time="2025-03-01T10:00:00Z",
        ),
    )
    packed = {
        "order_number": number,
        "shipment_number": f"SH-{number}",
        "ship_from": "DC-EAST",
        "packages": [{"sscc": "003456789012345675", "weight_kg": "2.5"}],
        "lines": [{"line_number": 1, "sku": "SKU-A", "quantity": "1"}],
    }
    deliver(
        "wms",
        cloudevent(
            "shipment.packed",
            f"SH-{number}",
            packed,
            source="wms/sim",
            time="2025-03-01T12:00:00Z",
        ),
    )
    return Shipment.objects.get(number=f"SH-{number}")
