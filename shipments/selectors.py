"""Reads of shipments and documents, always scoped to one account."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from orders.models import CustomerAccount
from shipments.models import (
    Document,
    EtaRevision,
    ServiceAlert,
    Shipment,
    TrackingEvent,
)


def shipment_list_for_account(*, account: CustomerAccount) -> QuerySet[Shipment]:
    """Return the account's shipments, newest first."""
    return (
        Shipment.objects.filter(account=account)
        .select_related("order", "carrier")
        .order_by("-created_at", "-id")
    )


def shipment_get_for_customer(*, account: CustomerAccount, number: str) -> Shipment:
    """Return one of the account's shipments with its timeline, or 404.

    Withdrawn milestones are left out of the timeline the customer sees.
    """
    shipments = Shipment.objects.filter(account=account).select_related(
        "order", "carrier", "service"
    )
    shipments = shipments.prefetch_related(
        Prefetch(
            "events",
            queryset=TrackingEvent.objects.filter(withdrawn=False).order_by(
                "occurred_at", "id"
            ),
        ),
        Prefetch("eta_revisions", queryset=EtaRevision.objects.order_by("recorded_at")),
        Prefetch(
            "alerts", queryset=ServiceAlert.objects.filter(cleared_at__isnull=True)
        ),
        "packages",
        Prefetch("documents", queryset=Document.objects.order_by("-created_at")),
    )
    shipment = shipments.filter(number=number).first()
    if shipment is None:
        raise Http404("No such shipment.")
    return shipment


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
