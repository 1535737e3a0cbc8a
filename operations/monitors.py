"""Periodic monitors that turn silence into cases, never into a status.

A shipment whose tracking has gone quiet keeps its status; the monitor
opens a case that names the last actual milestone and its time, so customer
service can chase the carrier while the portal keeps showing the last
confirmed milestone.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from operations.services import case_open, case_resolve
from shipments.models import Shipment, ShipmentStatus

# Statuses where the goods are moving and the carrier should be reporting.
_MOVING = [
    ShipmentStatus.PICKED_UP,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY,
    ShipmentStatus.DELIVERY_ATTEMPTED,
    ShipmentStatus.EXCEPTION,
]
# Statuses after planning at which a tracking number should exist.
_NEEDS_TRACKING = [
    ShipmentStatus.CARRIER_ASSIGNED,
    ShipmentStatus.PICKED_UP,
    ShipmentStatus.IN_TRANSIT,
]


def monitor_stale_tracking(*, now: dt.datetime | None = None) -> int:
    """Open a case per moving shipment with no actual milestone for too long."""
    now = now or timezone.now()
    quiet_since = now - dt.timedelta(hours=settings.WAYBILL_STALE_TRACKING_HOURS)
    quiet = Shipment.objects.filter(status__in=_MOVING, last_actual_at__lt=quiet_since)
    count = 0
    for shipment in quiet.select_related("order").order_by("pk").iterator():
        case_open(
            kind="tracking_quiet",
            dedupe_key=f"tracking_quiet:{shipment.number}",
            title=f"No tracking for {shipment.number} since "
            f"{shipment.last_actual_at:%Y-%m-%d %H:%M} UTC",
            detail=f"Last actual milestone: {shipment.status} at "
            f"{shipment.last_actual_at.isoformat()}",
            shipment=shipment,
            order=shipment.order,
        )
        count += 1
    _resolve_recovered("tracking_quiet", exclude=quiet)
    return count


def monitor_missing_tracking_numbers(*, now: dt.datetime | None = None) -> int:
    """Open a case per shipment a carrier took on but gave no tracking number."""
    now = now or timezone.now()
    overdue = now - dt.timedelta(hours=settings.WAYBILL_MISSING_TRACKING_HOURS)
    missing = Shipment.objects.filter(
        status__in=_NEEDS_TRACKING, tracking_numbers=[], updated_at__lt=overdue
    )
    count = 0
    for shipment in missing.select_related("order").order_by("pk").iterator():
        case_open(
            kind="missing_tracking",
            dedupe_key=f"missing_tracking:{shipment.number}",
            title=f"{shipment.number} is {shipment.status} without a tracking number",
            shipment=shipment,
            order=shipment.order,
        )
        count += 1
    return count


def _resolve_recovered(kind: str, *, exclude) -> None:
    """Resolve open cases of a kind whose shipment is no longer flagged."""
    from operations.models import ExceptionCase

    recovered = (
        ExceptionCase.objects.filter(kind=kind, state=ExceptionCase.State.OPEN)
        .exclude(shipment__in=exclude)
        .values_list("dedupe_key", flat=True)
    )
    for key in list(recovered):
        case_resolve(dedupe_key=key)


def delayed_ack_case_key(watch_id: int) -> str:
    """Return the dedupe key of the delayed-acknowledgement case of one watch."""
    return f"delayed_ack:{watch_id}"


def monitor_overdue_acknowledgements(*, now: dt.datetime | None = None) -> int:
    """Mark X12 groups whose 997 is overdue and open one case per group.

    Only groups that reached the partner count: a message still being
    retried (or dead) has its own case. A 997 that arrives later still
    closes the watch and resolves the case.
    """
    from integrations.models import AckWatch

    now = now or timezone.now()
    reached = Q(outbox_message__isnull=True) | Q(outbox_message__state="delivered")
    due = (
        AckWatch.objects.filter(state=AckWatch.State.WAITING, due_at__lt=now)
        .filter(reached)
        .select_related("connection", "outbox_message")
        .order_by("pk")
    )
    count = 0
    for watch in due.iterator():
        # The conditional update loses cleanly to a 997 closing the watch
        # at the same moment.
        marked = AckWatch.objects.filter(
            pk=watch.pk, state=AckWatch.State.WAITING
        ).update(state=AckWatch.State.OVERDUE)
        if marked:
            _open_delayed_ack_case(watch)
            count += 1
    return count


def _open_delayed_ack_case(watch) -> None:
    message = watch.outbox_message
    what = f"{message.type} {message.subject}" if message else "a group"
    case_open(
        kind="delayed_ack",
        dedupe_key=delayed_ack_case_key(watch.pk),
        title=f"No 997 from {watch.connection.code} for GS {watch.group_control} "
        f"({what}), due {watch.due_at:%Y-%m-%d %H:%M} UTC",
        detail=f"Interchange {watch.interchange_control}, group "
        f"{watch.functional_id} {watch.group_control}, sent "
        f"{watch.sent_at.isoformat()}; the acknowledgement window is "
        f"{watch.connection.ack_window_minutes} minutes.",
        outbox_message=message,
    )
