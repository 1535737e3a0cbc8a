"""Notify subscribed partners through the outbox."""

from __future__ import annotations

from api.models import WebhookSubscription
from integrations.outbox import outbox_enqueue
from shipments.models import Shipment, TrackingEvent


def partner_notify_milestone(*, shipment: Shipment, event: TrackingEvent) -> int:
    """Queue one ``shipment.milestone`` webhook per subscribed partner; return how many.

    Called once per milestone added to the history; the idempotency key
    names the partner and the milestone, so a repeated or replayed event
    never notifies a partner twice.
    """
    subscriptions = WebhookSubscription.objects.filter(
        account_id=shipment.account_id,
        event_type=WebhookSubscription.EventType.SHIPMENT_MILESTONE,
        active=True,
    ).select_related("partner")
    count = 0
    for subscription in subscriptions:
        outbox_enqueue(
            destination_code=subscription.partner.code,
            type="shipment.milestone",
            subject=shipment.number,
            payload=_milestone_payload(shipment, event),
            idempotency_key=f"partner:{subscription.partner.code}:milestone:{event.pk}",
            correlation_id=shipment.order.number if shipment.order_id else "",
        )
        count += 1
    return count


def _milestone_payload(shipment: Shipment, event: TrackingEvent) -> dict:
    """Build the customer-safe payload: canonical fields only, nothing internal."""
    return {
        "shipment_number": shipment.number,
        "tracking_numbers": shipment.tracking_numbers,
        "status": event.status,
        "kind": event.kind,
        "description": event.description,
        "occurred_at": event.occurred_at.isoformat(),
        "city": event.city,
        "state": event.state,
        "country": event.country,
        "shipment_status": shipment.status,
    }
