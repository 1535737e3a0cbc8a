"""Canonical event handlers, one ``apply_<event>`` per type, in a registry.

Each handler runs inside the transaction that stores the event, so an event
and its effects (model changes, outbox rows) commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable

from integrations.connectors.x12 import acks as x12_acks
from integrations.events import EventType
from integrations.models import CanonicalEvent
from masterdata.inventory import inventory_apply_receipt, inventory_apply_snapshot
from orders.bulk import orders_apply_released_many
from orders.models import Order
from orders.return_receipts import return_apply_received
from orders.returns import return_apply_authorized
from orders.services import order_apply_progress, order_apply_released
from shipments import services as shipment_services
from shipments.freight import freight_invoice_apply

Handler = Callable[[CanonicalEvent], object]
# Applies a run of one type's payloads set-based; returns an outcome for each
# (see ``orders.bulk``).
BatchHandler = Callable[..., list[str]]


def apply_order_released(event: CanonicalEvent) -> object:
    """Create, validate and release (or hold) an order from the ERP."""
    return order_apply_released(data=event.data, correlation_id=event.correlation_id)


def apply_order_allocated(event: CanonicalEvent) -> object:
    """Record that the WMS allocated stock to an order."""
    return order_apply_progress(data=event.data, status=Order.Status.ALLOCATED)


def apply_order_picked(event: CanonicalEvent) -> object:
    """Record that the WMS picked an order."""
    return order_apply_progress(data=event.data, status=Order.Status.PICKING)


def apply_shipment_packed(event: CanonicalEvent) -> object:
    """Create the shipment and cartons, and ask the TMS to plan it."""
    return shipment_services.shipment_apply_packed(data=event.data)


def apply_shipment_planned(event: CanonicalEvent) -> object:
    """Record carrier, service, tracking numbers, ETA and freight estimate."""
    return shipment_services.shipment_apply_planned(
        data=event.data, source=event.source
    )


def _milestone_arguments(event: CanonicalEvent) -> dict:
    return {
        "data": event.data,
        "source": event.source,
        "event_key": f"{event.source}:{event.event_id}",
        "canonical_event_id": event.pk,
    }


def apply_shipment_milestone(event: CanonicalEvent) -> object:
    """Add a milestone to the shipment's history and project its status."""
    return shipment_services.shipment_apply_milestone(**_milestone_arguments(event))


def apply_shipment_delivered(event: CanonicalEvent) -> object:
    """Complete a shipment with its proof of delivery."""
    return shipment_services.shipment_apply_delivered(**_milestone_arguments(event))


def apply_shipment_exception(event: CanonicalEvent) -> object:
    """Raise a service alert and a case for a delivery exception."""
    return shipment_services.shipment_apply_exception(**_milestone_arguments(event))


def apply_invoice_released(event: CanonicalEvent) -> object:
    """Put the invoice on the portal and mark the order invoiced."""
    return shipment_services.invoice_apply_released(data=event.data)


def apply_x12_acknowledged(event: CanonicalEvent) -> object:
    """Close the acknowledgement watch a partner's 997 answers."""
    return x12_acks.ack_watch_close(
        source=event.source, data=event.data, acknowledged_at=event.time
    )


def apply_freight_invoiced(event: CanonicalEvent) -> object:
    """Store a carrier's freight invoice and reconcile it with the estimate."""
    return freight_invoice_apply(
        data=event.data, source=event.source, canonical_event_id=event.pk
    )


def apply_inventory_snapshot(event: CanonicalEvent) -> object:
    """Replace availability at a warehouse with the WMS's figures."""
    return inventory_apply_snapshot(data=event.data)


def apply_inventory_received(event: CanonicalEvent) -> object:
    """Add stock the warehouse received to availability."""
    return inventory_apply_receipt(data=event.data)


def apply_return_received(event: CanonicalEvent) -> object:
    """Mark a return request's goods as received at the warehouse."""
    return return_apply_received(data=event.data)


def apply_return_authorized(event: CanonicalEvent) -> object:
    """Record the ERP's decision on a return; an authorised one goes to the WMS."""
    return return_apply_authorized(data=event.data)


HANDLERS: dict[str, Handler] = {
    EventType.ORDER_RELEASED: apply_order_released,
    EventType.RETURN_AUTHORIZED: apply_return_authorized,
    EventType.ORDER_ALLOCATED: apply_order_allocated,
    EventType.ORDER_PICKED: apply_order_picked,
    EventType.SHIPMENT_PACKED: apply_shipment_packed,
    EventType.SHIPMENT_PLANNED: apply_shipment_planned,
    EventType.SHIPMENT_MILESTONE: apply_shipment_milestone,
    EventType.SHIPMENT_DELIVERED: apply_shipment_delivered,
    EventType.SHIPMENT_EXCEPTION: apply_shipment_exception,
    EventType.INVOICE_RELEASED: apply_invoice_released,
    EventType.FREIGHT_INVOICED: apply_freight_invoiced,
    EventType.INVENTORY_SNAPSHOT: apply_inventory_snapshot,
    EventType.INVENTORY_RECEIVED: apply_inventory_received,
    EventType.RETURN_RECEIVED: apply_return_received,
    EventType.X12_ACKNOWLEDGED: apply_x12_acknowledged,
}

# Event types whose runs a worker may apply together (``inbound_messages_process``).
BATCH_HANDLERS: dict[str, BatchHandler] = {
    EventType.ORDER_RELEASED: orders_apply_released_many,
}
