"""Shipments for tests that start mid-journey, made through the ORM."""

from __future__ import annotations

import datetime as dt

from orders.models import CustomerAccount, Order
from shipments.models import Shipment


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
