"""Reads of shipments and documents, always scoped to one account."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from orders.models import CustomerAccount
from shipments.models import (
    Document,
    EtaRevision,
    Package,
    ServiceAlert,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)

# After this long without an actual milestone, the tracking page says the
# shipment has not been updated recently; it still shows the last one.
QUIET_AFTER = dt.timedelta(hours=48)


@dataclass(frozen=True)
class LastConfirmed:
    """The last actual milestone of a shipment, and whether tracking went quiet."""

    status_label: str
    at: dt.datetime
    quiet: bool


def shipment_list_for_account(
    *,
    account: CustomerAccount,
    q: str | None = None,
    status: str | None = None,
    delivered_after: dt.datetime | None = None,
) -> QuerySet[Shipment]:
    """Return the account's shipments, newest first, searched and filtered.

    ``q`` matches the shipment, order or PO number, a tracking number, or a
    carton's SSCC or reference.
    """
    shipments = Shipment.objects.filter(account=account).select_related(
        "order", "carrier"
    )
    if q:
        shipments = shipments.filter(_shipment_search(q))
    if status:
        shipments = shipments.filter(status=status)
    if delivered_after:
        shipments = shipments.filter(delivered_at__gte=delivered_after)

    return shipments.order_by("-created_at", "-id")


def _shipment_search(q: str) -> Q:
    # An EXISTS over the cartons, not a join, so a shipment with two
    # matching cartons is listed once.
    cartons = Package.objects.filter(shipment=OuterRef("pk")).filter(
        Q(sscc=q) | Q(tracking_number=q) | Q(reference=q)
    )
    return (
        Q(number__icontains=q)
        | Q(order__number__icontains=q)
        | Q(order__po_number__icontains=q)
        | Q(tracking_numbers__icontains=q)
        | Q(Exists(cartons))
    )


def shipment_get_for_customer(*, account: CustomerAccount, number: str) -> Shipment:
    """Return one of the account's shipments with its timeline, or 404.

    Withdrawn milestones are left out of the timeline the customer sees.
    """
    events = TrackingEvent.objects.filter(withdrawn=False).order_by("occurred_at", "id")
    shipments = (
        Shipment.objects.filter(account=account)
        .select_related("order", "carrier", "service")
        .prefetch_related(
            Prefetch("events", queryset=events),
            Prefetch(
                "eta_revisions",
                queryset=EtaRevision.objects.order_by("recorded_at", "id"),
            ),
            Prefetch(
                "alerts", queryset=ServiceAlert.objects.filter(cleared_at__isnull=True)
            ),
            Prefetch(
                "documents", queryset=Document.objects.order_by("-created_at", "-id")
            ),
        )
    )
    shipment = shipments.filter(number=number).first()
    if shipment is None:
        raise Http404("No such shipment.")
    return shipment


def shipment_last_confirmed(
    *, shipment: Shipment, now: dt.datetime
) -> LastConfirmed | None:
    """Return the last actual milestone as of ``now``, or None before the first.

    Expects the shipment from ``shipment_get_for_customer``: the status is
    read from its prefetched, non-withdrawn events.
    """
    if shipment.last_actual_at is None:
        return None
    actual = [
        event
        for event in shipment.events.all()
        if event.kind == TrackingEvent.Kind.ACTUAL
        and event.occurred_at <= shipment.last_actual_at
    ]
    label = actual[-1].get_status_display() if actual else shipment.get_status_display()
    quiet = (
        shipment.status != ShipmentStatus.DELIVERED
        and now - shipment.last_actual_at > QUIET_AFTER
    )

    return LastConfirmed(status_label=label, at=shipment.last_actual_at, quiet=quiet)


def document_list_for_account(*, account: CustomerAccount) -> QuerySet[Document]:
    """Return the account's documents, newest first."""
    return (
        Document.objects.filter(account=account)
        .select_related("order", "shipment")
        .order_by("-created_at", "-id")
    )


def document_get_for_customer(*, account: CustomerAccount, pk: int) -> Document:
    """Return one of the account's documents, or 404 exactly as for a missing id."""
    document = Document.objects.filter(account=account, pk=pk).first()
    if document is None:
        raise Http404("No such document.")
    return document
