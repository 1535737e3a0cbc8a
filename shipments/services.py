"""Shipment lifecycle: packing, planning, the milestone projection, documents."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from api.services import partner_notify_milestone
from integrations.errors import EventRejected
from integrations.outbox import outbox_enqueue
from masterdata.models import Carrier, CarrierService
from operations.services import case_open
from orders.models import Order
from orders.services import order_advance, order_get_for_event
from shipments.models import (
    STATUS_RANK,
    Document,
    EtaRevision,
    Package,
    ServiceAlert,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)

logger = logging.getLogger(__name__)

# Milestone statuses at or beyond which the goods have left the warehouse.
_SHIPPED_FROM = STATUS_RANK[ShipmentStatus.PICKED_UP]
_TERMINAL = {ShipmentStatus.DELIVERED}


def shipment_apply_packed(*, data: dict[str, Any]) -> Shipment:
    """Create the shipment and cartons the WMS packed; ask the TMS to plan it."""
    order = order_get_for_event(number=data.get("order_number") or "")
    shipment, created = Shipment.objects.get_or_create(
        number=data["shipment_number"],
        defaults={"account_id": order.account_id, "order": order},
    )
    if created:
        _store_packages(shipment, packages=data.get("packages") or [])
        _record_shipped_quantities(order, lines=data.get("lines") or [])
    order_advance(order=order, status=Order.Status.PACKED)

    outbox_enqueue(
        destination_code="tms",
        type="shipment.plan_requested",
        subject=shipment.number,
        payload=_plan_request(shipment, order=order),
        idempotency_key=f"shipment.plan_requested:{shipment.number}",
        correlation_id=order.number,
    )
    return shipment


def _store_packages(shipment: Shipment, *, packages: list[dict[str, Any]]) -> None:
    Package.objects.bulk_create(
        Package(
            shipment=shipment,
            sscc=str(package.get("sscc") or ""),
            weight_kg=_decimal(package.get("weight_kg")),
            length_cm=_decimal(package.get("length_cm")),
            width_cm=_decimal(package.get("width_cm")),
            height_cm=_decimal(package.get("height_cm")),
        )
        for package in packages
    )


def _record_shipped_quantities(order: Order, *, lines: list[dict[str, Any]]) -> None:
    by_number = {line.line_number: line for line in order.lines.all()}
    for shipped in lines:
        line = by_number.get(int(shipped.get("line_number") or 0))
        if line is None:
            continue
        line.shipped_quantity += _decimal(shipped.get("quantity")) or Decimal(0)
        line.save(update_fields=["shipped_quantity"])


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise EventRejected("invalid_value", f"{value!r} is not a number") from exc


def _plan_request(shipment: Shipment, *, order: Order) -> dict[str, Any]:
    warehouse = order.ship_from
    address = order.ship_to
    return {
        "shipment_number": shipment.number,
        "order_number": order.number,
        "ship_from": {
            "code": warehouse.code if warehouse else "",
            "city": warehouse.city if warehouse else "",
            "state": warehouse.state if warehouse else "",
            "country": warehouse.country if warehouse else "",
            "time_zone": warehouse.time_zone if warehouse else "",
        },
        "ship_to": {
            "name": address.name if address else "",
            "city": address.city if address else "",
            "state": address.state if address else "",
            "postal_code": address.postal_code if address else "",
            "country": address.country if address else "",
        },
        "packages": [
            {
                "sscc": package.sscc,
                "weight_kg": str(package.weight_kg or ""),
                "length_cm": str(package.length_cm or ""),
                "width_cm": str(package.width_cm or ""),
                "height_cm": str(package.height_cm or ""),
            }
            for package in shipment.packages.all()
        ],
    }


def shipment_get_for_event(*, data: dict[str, Any]) -> Shipment:
    """Return the shipment an event names (number or tracking number), locked."""
    number = data.get("shipment_number") or ""
    tracking = data.get("tracking_number") or ""
    shipments = Shipment.objects.select_for_update()
    shipment = shipments.filter(number=number).first() if number else None
    if shipment is None and tracking:
        # TODO: a tracking-number table with an index; needed once a carrier
        # feed is matched against millions of shipments.
        candidates = shipments.filter(tracking_numbers__icontains=tracking)
        shipment = next((s for s in candidates if tracking in s.tracking_numbers), None)
    if shipment is None:
        reference = number or tracking or "(none)"
        raise EventRejected("unknown_reference", f"unknown shipment {reference}")
    return shipment


def shipment_apply_planned(*, data: dict[str, Any], source: str) -> Shipment:
    """Record the TMS's plan (carrier, service, tracking numbers, ETA, freight)."""
    shipment = shipment_get_for_event(data=data)
    carrier = Carrier.objects.filter(scac=data.get("carrier_scac") or "").first()
    if carrier is None:
        raise EventRejected(
            "unknown_reference", f"unknown carrier SCAC {data.get('carrier_scac')}"
        )
    service = CarrierService.objects.filter(
        carrier=carrier, code=data.get("service_code") or ""
    ).first()

    shipment.carrier = carrier
    shipment.service = service
    shipment.tracking_numbers = list(data.get("tracking_numbers") or [])
    shipment.freight_estimate = _decimal(data.get("freight_estimate"))
    shipment.freight_currency = data.get("currency") or ""
    shipment.save(
        update_fields=[
            "carrier",
            "service",
            "tracking_numbers",
            "freight_estimate",
            "freight_currency",
            "updated_at",
        ]
    )
    _record_eta(shipment, data=data, source=source)

    order = shipment.order
    outbox_enqueue(
        destination_code="erp",
        type="shipment.confirmed",
        subject=shipment.number,
        payload={
            "order_number": order.number if order else "",
            "shipment_number": shipment.number,
            "carrier_scac": carrier.scac,
            "tracking_numbers": shipment.tracking_numbers,
            "freight_estimate": str(shipment.freight_estimate or ""),
        },
        idempotency_key=f"shipment.confirmed:{shipment.number}",
        correlation_id=order.number if order else "",
    )
    return shipment


def _record_eta(shipment: Shipment, *, data: dict[str, Any], source: str) -> None:
    """Keep every ETA revision; a date-only estimate stays a date."""
    eta = dt.datetime.fromisoformat(data["eta"]) if data.get("eta") else None
    eta_date = dt.date.fromisoformat(data["eta_date"]) if data.get("eta_date") else None
    if eta is None and eta_date is None:
        return
    if (shipment.eta, shipment.eta_date) == (eta, eta_date):
        return
    shipment.eta, shipment.eta_date = eta, eta_date
    shipment.save(update_fields=["eta", "eta_date", "updated_at"])
    EtaRevision.objects.create(
        shipment=shipment, eta=eta, eta_date=eta_date, source=source
    )


def shipment_apply_milestone(
    *, data: dict[str, Any], source: str, event_key: str, canonical_event_id: int | None
) -> Shipment:
    """Add a milestone to a shipment's history and recompute its status.

    The projection depends only on the set of milestones, never on the order
    they arrived in, so late, repeated or reordered events give the same
    result. Side effects (ERP status changes, alerts, invoice release) happen
    only when the projected status actually changes.
    """
    shipment = shipment_get_for_event(data=data)
    occurred_at = dt.datetime.fromisoformat(data["occurred_at"])
    event, created = TrackingEvent.objects.get_or_create(
        shipment=shipment,
        event_key=event_key[:200],
        defaults={
            "source": source,
            "status": data["status"],
            "kind": data.get("kind") or TrackingEvent.Kind.ACTUAL,
            "external_code": data.get("external_code") or "",
            "description": (data.get("description") or "")[:300],
            "reason_code": data.get("reason_code") or "",
            "occurred_at": occurred_at,
            "tz_source": data.get("tz_source") or TrackingEvent.TzSource.PAYLOAD,
            "city": data.get("city") or "",
            "state": data.get("state") or "",
            "country": (data.get("country") or "")[:2],
            "canonical_event_id": canonical_event_id,
        },
    )
    if not created:
        # Carriers send their whole history again with a fresh estimate, so
        # a repeated scan may bring a revised ETA. It is taken only from the
        # shipment's newest actual scan: an old feed replayed after newer
        # scans arrived cannot bring back the estimate it carried.
        if _is_newest_actual(shipment, event):
            _record_eta(shipment, data=data, source=source)
        return shipment
    _record_eta(shipment, data=data, source=source)
    _record_carrier_answer(shipment, data=data)

    before = shipment.status
    shipment_project(shipment)
    if shipment.status != before:
        _on_status_change(shipment, data=data, previous=before)
    partner_notify_milestone(shipment=shipment, event=event)
    return shipment


def _is_newest_actual(shipment: Shipment, event: TrackingEvent) -> bool:
    return (
        event.kind == TrackingEvent.Kind.ACTUAL
        and shipment.last_actual_at is not None
        and event.occurred_at >= shipment.last_actual_at
    )


def _record_carrier_answer(shipment: Shipment, *, data: dict[str, Any]) -> None:
    """Keep the carrier and its PRO from a carrier's answer to a tender (an X12 990).

    Only fills what is missing: a carrier the TMS already planned stays, and
    the PRO joins the tracking numbers once.
    """
    scac = data.get("carrier_scac") or ""
    reference = data.get("carrier_reference") or ""
    changed = []
    if scac and shipment.carrier_id is None:
        carrier = Carrier.objects.filter(scac=scac).first()
        if carrier is not None:
            shipment.carrier = carrier
            changed.append("carrier")
    if reference and reference not in shipment.tracking_numbers:
        shipment.tracking_numbers = [*shipment.tracking_numbers, reference]
        changed.append("tracking_numbers")
    if changed:
        shipment.save(update_fields=[*changed, "updated_at"])


def shipment_project(shipment: Shipment) -> Shipment:
    """Recompute status, exception flag and milestone times from the history.

    The status is that of the latest actual milestone by event time (rank
    breaks ties), except that a delivered shipment stays delivered. Expects
    the caller to hold the shipment's row lock.
    """
    actual = sorted(
        shipment.events.filter(kind=TrackingEvent.Kind.ACTUAL, withdrawn=False),
        key=lambda event: (event.occurred_at, STATUS_RANK[event.status]),
    )
    if not actual:
        return shipment
    delivered = [event for event in actual if event.status in _TERMINAL]
    latest = delivered[0] if delivered else actual[-1]

    shipment.status = latest.status
    shipment.status_at = latest.occurred_at
    shipment.last_actual_at = actual[-1].occurred_at
    shipment.delivered_at = delivered[0].occurred_at if delivered else None
    is_exception = latest.status == ShipmentStatus.EXCEPTION
    shipment.exception_reason = latest.reason_code if is_exception else ""
    shipment.exception_at = latest.occurred_at if is_exception else None
    shipment.save(
        update_fields=[
            "status",
            "status_at",
            "last_actual_at",
            "delivered_at",
            "exception_reason",
            "exception_at",
            "updated_at",
        ]
    )
    return shipment


def _on_status_change(
    shipment: Shipment, *, data: dict[str, Any], previous: str
) -> None:
    order = shipment.order
    correlation_id = order.number if order else ""
    outbox_enqueue(
        destination_code="erp",
        type="shipment.status_changed",
        subject=shipment.number,
        payload={
            "shipment_number": shipment.number,
            "order_number": correlation_id,
            "status": shipment.status,
            "previous_status": previous,
            "occurred_at": shipment.status_at.isoformat(),
        },
        idempotency_key=(
            f"shipment.status_changed:{shipment.number}:{shipment.status}:"
            f"{shipment.status_at.isoformat()}"
        ),
        correlation_id=correlation_id,
    )
    if shipment.status != ShipmentStatus.EXCEPTION:
        ServiceAlert.objects.filter(shipment=shipment, cleared_at__isnull=True).update(
            cleared_at=timezone.now()
        )
    if order is not None:
        _advance_order(order, shipment=shipment)
    logger.info(
        "shipment status changed to %s",
        shipment.status,
        extra={"shipment_number": shipment.number, "correlation_id": correlation_id},
    )


def _advance_order(order: Order, *, shipment: Shipment) -> None:
    order = order_get_for_event(number=order.number)
    statuses = list(order.shipments.values_list("status", flat=True))
    if all(status == ShipmentStatus.DELIVERED for status in statuses):
        if order_advance(order=order, status=Order.Status.DELIVERED):
            _request_invoice(order, shipment=shipment)
        return
    shipped = [
        status
        for status in statuses
        if status in STATUS_RANK and STATUS_RANK[status] >= _SHIPPED_FROM
    ]
    if shipped:
        partial = len(shipped) < len(statuses)
        order_advance(
            order=order,
            status=Order.Status.PARTIALLY_SHIPPED if partial else Order.Status.SHIPPED,
        )


def _request_invoice(order: Order, *, shipment: Shipment) -> None:
    outbox_enqueue(
        destination_code="erp",
        type="invoice.release_requested",
        subject=order.number,
        payload={
            "order_number": order.number,
            "shipment_number": shipment.number,
            "delivered_at": shipment.delivered_at.isoformat()
            if shipment.delivered_at
            else None,
        },
        idempotency_key=f"invoice.release_requested:{order.number}",
        correlation_id=order.number,
    )


def shipment_apply_delivered(
    *, data: dict[str, Any], source: str, event_key: str, canonical_event_id: int | None
) -> Shipment:
    """Record delivery: the milestone, who signed, and the POD document."""
    shipment = shipment_apply_milestone(
        data=data,
        source=source,
        event_key=event_key,
        canonical_event_id=canonical_event_id,
    )
    if data.get("signed_by") and not shipment.pod_signed_by:
        shipment.pod_signed_by = str(data["signed_by"])[:120]
        shipment.save(update_fields=["pod_signed_by", "updated_at"])
    pod = data.get("pod")
    if pod:
        document_store(
            account_id=shipment.account_id,
            kind=Document.Kind.POD,
            number=f"POD-{shipment.number}",
            attachment=pod,
            order=shipment.order,
            shipment=shipment,
        )
    return shipment


def shipment_apply_exception(
    *, data: dict[str, Any], source: str, event_key: str, canonical_event_id: int | None
) -> Shipment:
    """Record a delivery exception: alert, case, and a flag on the ERP order.

    The customer alert is raised only while the exception is the current
    status: a late exception that a later milestone already cleared still
    opens a case but shows no alert.
    """
    shipment = shipment_apply_milestone(
        data=data,
        source=source,
        event_key=event_key,
        canonical_event_id=canonical_event_id,
    )
    order = shipment.order
    reason = data.get("reason_code") or "other"
    if shipment.status == ShipmentStatus.EXCEPTION:
        _raise_alert(shipment, reason=reason, raised_at=data["occurred_at"])
    case_open(
        kind="delivery_exception",
        dedupe_key=f"delivery_exception:{shipment.number}:{reason}",
        title=f"Delivery exception on {shipment.number}: {reason}",
        detail=data.get("description") or "",
        reason_code=reason,
        shipment=shipment,
        order=order,
    )
    if order is not None:
        _flag_order(order, reason=reason, shipment=shipment)
    return shipment


def _raise_alert(shipment: Shipment, *, reason: str, raised_at: str) -> None:
    ServiceAlert.objects.get_or_create(
        account_id=shipment.account_id,
        shipment=shipment,
        reason_code=reason,
        cleared_at=None,
        defaults={
            "order": shipment.order,
            "message": _customer_wording(reason),
            "raised_at": dt.datetime.fromisoformat(raised_at),
        },
    )


# Customer-safe wording per exception reason (DESIGN §6 taxonomy).
EXCEPTION_WORDING = {
    "carrier": "The carrier has reported a delay with this shipment.",
    "shipper": "There is a delay at the shipping warehouse.",
    "consignee": "The carrier could not complete delivery at the destination.",
    "customs": "This shipment is being held in customs.",
    "weather": "Severe weather is delaying this shipment.",
    "other": "This shipment is delayed. Our team is looking into it.",
}


def _customer_wording(reason: str) -> str:
    return EXCEPTION_WORDING.get(reason, EXCEPTION_WORDING["other"])


def _flag_order(order: Order, *, reason: str, shipment: Shipment) -> None:
    if not order.erp_flagged:
        order.erp_flagged = True
        order.save(update_fields=["erp_flagged", "updated_at"])
    outbox_enqueue(
        destination_code="erp",
        type="order.flagged",
        subject=order.number,
        payload={
            "order_number": order.number,
            "shipment_number": shipment.number,
            "reason_code": reason,
            "message": _customer_wording(reason),
        },
        idempotency_key=f"order.flagged:{order.number}:{shipment.number}:{reason}",
        correlation_id=order.number,
    )


def invoice_apply_released(*, data: dict[str, Any]) -> Document:
    """Put the ERP's invoice on the portal and mark the order invoiced."""
    order = order_get_for_event(number=data.get("order_number") or "")
    document = document_store(
        account_id=order.account_id,
        kind=Document.Kind.INVOICE,
        number=str(data.get("invoice_number") or ""),
        attachment=data.get("document") or {},
        order=order,
    )
    order_advance(order=order, status=Order.Status.INVOICED)
    return document


def document_store(
    *,
    account_id: int,
    kind: str,
    number: str,
    attachment: dict[str, Any],
    order: Order | None = None,
    shipment: Shipment | None = None,
) -> Document:
    """Store a document in private storage with its checksum, once per number."""
    existing = Document.objects.filter(
        account_id=account_id, kind=kind, number=number
    ).first()
    if existing is not None:
        return existing
    try:
        content = base64.b64decode(
            attachment.get("content_base64") or "", validate=True
        )
    except (binascii.Error, ValueError) as exc:
        raise EventRejected(
            "invalid_value", f"document {number} is not valid base64"
        ) from exc
    if not content:
        raise EventRejected("invalid_value", f"document {number} is empty")
    filename = _safe_filename(attachment.get("filename") or f"{number}.pdf")
    document = Document(
        account_id=account_id,
        order=order,
        shipment=shipment,
        kind=kind,
        number=number,
        filename=filename,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content_type=attachment.get("content_type") or "application/octet-stream",
    )
    document.file.save(filename, ContentFile(content), save=False)
    document.save()
    return document


def _safe_filename(name: str) -> str:
    """Keep a plain file name: no directories, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?')
    return cleaned.strip(". ")[:150] or "document"
