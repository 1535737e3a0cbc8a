"""Ship on the lane's fallback carrier when TMS rating is unavailable (DESIGN §9).

A packed shipment waits for the TMS to rate and plan it. When the TMS cannot
take the planning request - the request died, or its breaker or timeouts kept
it undelivered for ``WAYBILL_TMS_RATING_TIMEOUT_SECONDS`` - the
shipment is released on the carrier of the most specific active
``LaneFallbackRule`` for its lane, the pending request is withdrawn so the TMS
cannot plan it a second time, the carrier gets a tender, the ERP gets the
shipment confirmation without a freight estimate, and a
freight-reconciliation case records that the real rate is still to be settled.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import Connection, OutboxMessage
from integrations.outbox import outbox_enqueue
from operations.models import LaneFallbackRule
from operations.services import case_open
from shipments.models import Shipment, ShipmentStatus

logger = logging.getLogger(__name__)

PLAN_REQUEST = "shipment.plan_requested"
TENDER = "shipment.tender"
_TMS = "tms"


def plan_request_key(shipment_number: str) -> str:
    """Return the idempotency key of a shipment's planning request to the TMS."""
    return f"{PLAN_REQUEST}:{shipment_number}"


def fallback_candidates(*, now: dt.datetime | None = None) -> list[str]:
    """Return the numbers of shipments whose TMS rating is unavailable.

    A shipment qualifies while it has no carrier and its planning request is
    dead, or still undelivered after the rating timeout - which is what an
    open TMS breaker or a TMS that keeps timing out leads to. A short outage
    that the retries ride out never triggers a fallback.
    """
    now = now or timezone.now()
    timeout = dt.timedelta(seconds=settings.WAYBILL_TMS_RATING_TIMEOUT_SECONDS)
    requests = OutboxMessage.objects.filter(
        type=PLAN_REQUEST, destination__code=_TMS
    ).filter(
        Q(state=OutboxMessage.State.DEAD)
        | Q(state=OutboxMessage.State.PENDING, created_at__lte=now - timeout)
    )
    waiting = set(requests.values_list("subject", flat=True))
    if not waiting:
        return []
    return list(
        Shipment.objects.filter(
            number__in=waiting,
            carrier__isnull=True,
            status=ShipmentStatus.PLANNED,
            direction=Shipment.Direction.OUTBOUND,
        )
        .order_by("pk")
        .values_list("number", flat=True)
    )


def lane_fallback_rule(shipment: Shipment) -> LaneFallbackRule | None:
    """Return the most specific active rule for a shipment's lane, or None."""
    order = shipment.order
    warehouse = order.ship_from if order else None
    address = order.ship_to if order else None
    country = address.country if address else ""
    state = address.state if address else ""
    rules = LaneFallbackRule.objects.filter(active=True).select_related(
        "carrier", "service", "ship_from"
    )
    rules = rules.filter(Q(ship_from__isnull=True) | Q(ship_from=warehouse))
    rules = rules.filter(Q(destination_country="") | Q(destination_country=country))
    rules = rules.filter(Q(destination_state="") | Q(destination_state=state))

    def specificity(rule: LaneFallbackRule) -> tuple[int, int, int, int, int]:
        return (
            -(rule.ship_from_id is not None),
            -bool(rule.destination_country),
            -bool(rule.destination_state),
            rule.priority,
            rule.pk,
        )

    return min(rules, key=specificity, default=None)


def shipment_release_on_fallback(*, shipment_number: str) -> str:
    """Release one unrated shipment on its lane's fallback carrier.

    Returns what happened: ``released``, ``no_rule`` (a case asks for a rule),
    or ``skipped`` (the TMS planned it meanwhile). Safe to run twice.
    """
    with transaction.atomic():
        shipment = (
            Shipment.objects.select_for_update(of=("self",))
            .select_related("order__ship_from", "order__ship_to")
            .get(number=shipment_number)
        )
        request = (
            OutboxMessage.objects.select_for_update()
            .filter(idempotency_key=plan_request_key(shipment.number))
            .first()
        )
        if shipment.carrier_id is not None or (
            request is not None and request.state == OutboxMessage.State.DELIVERED
        ):
            return "skipped"

        order = shipment.order
        rule = lane_fallback_rule(shipment)
        if rule is None:
            case_open(
                kind="freight_reconciliation",
                dedupe_key=f"fallback:{shipment.number}",
                title=f"No fallback carrier for {shipment.number}: TMS rating "
                "unavailable",
                detail="Add a lane fallback rule for this lane, or plan the "
                "shipment in the TMS once it is back.",
                shipment=shipment,
                order=order,
            )
            return "no_rule"

        if request is not None:
            _withdraw(request, carrier_scac=rule.carrier.scac)
        shipment.carrier = rule.carrier
        shipment.service = rule.service
        shipment.freight_estimate = None
        shipment.save(
            update_fields=["carrier", "service", "freight_estimate", "updated_at"]
        )
        _tender(shipment, rule=rule)
        _confirm_to_erp(shipment)
        case_open(
            kind="freight_reconciliation",
            dedupe_key=f"fallback:{shipment.number}",
            title=f"{shipment.number} shipped on fallback carrier "
            f"{rule.carrier.scac} without a TMS rate",
            detail=f"TMS rating was unavailable; lane rule: {rule}. Settle the "
            "freight against the carrier's invoice.",
            shipment=shipment,
            order=order,
        )
    logger.warning(
        "shipment released on fallback carrier",
        extra={
            "shipment": shipment.number,
            "carrier": rule.carrier.scac,
            "correlation_id": order.number if order else "",
        },
    )
    return "released"


def release_unrated_shipments(*, now: dt.datetime | None = None) -> int:
    """Release every unrated shipment on its fallback; return how many."""
    outcomes = [
        shipment_release_on_fallback(shipment_number=number)
        for number in fallback_candidates(now=now)
    ]
    return outcomes.count("released")


def _withdraw(request: OutboxMessage, *, carrier_scac: str) -> None:
    # Withdrawn, not deleted: the admin shows why the TMS never got it.
    reason = f"withdrawn: shipped on fallback carrier {carrier_scac}"
    request.state = OutboxMessage.State.WITHDRAWN
    request.last_error = reason
    request.errors = [
        *request.errors,
        {"at": timezone.now().isoformat(), "error": reason},
    ]
    request.save(update_fields=["state", "last_error", "errors"])


def _tender(shipment: Shipment, *, rule: LaneFallbackRule) -> None:
    """Tender the shipment to the carrier's own connection, when it has one."""
    connection = (
        Connection.objects.filter(
            kind=Connection.Kind.CARRIER, scac=rule.carrier.scac, enabled=True
        )
        .exclude(Q(protocol=Connection.Protocol.HTTP_JSON) & Q(base_url=""))
        .first()
    )
    if connection is None:
        return
    order = shipment.order
    warehouse = order.ship_from if order else None
    address = order.ship_to if order else None
    outbox_enqueue(
        destination_code=connection.code,
        type=TENDER,
        subject=shipment.number,
        payload={
            "shipment_number": shipment.number,
            "order_number": order.number if order else "",
            "carrier_scac": rule.carrier.scac,
            "service_code": rule.service.code if rule.service else "",
            "pickup_date": timezone.localdate().isoformat(),
            "ship_from": {
                "code": warehouse.code if warehouse else "",
                "name": warehouse.name if warehouse else "",
                "city": warehouse.city if warehouse else "",
                "state": warehouse.state if warehouse else "",
                "postal_code": warehouse.postal_code if warehouse else "",
                "country": warehouse.country if warehouse else "",
            },
            "ship_to": {
                "name": address.name if address else "",
                "line1": address.line1 if address else "",
                "line2": address.line2 if address else "",
                "city": address.city if address else "",
                "state": address.state if address else "",
                "postal_code": address.postal_code if address else "",
                "country": address.country if address else "",
            },
            "packages": [
                {"sscc": package.sscc, "weight_kg": str(package.weight_kg or "")}
                for package in shipment.packages.all()
            ],
        },
        idempotency_key=f"{TENDER}:{shipment.number}",
        correlation_id=order.number if order else "",
    )


def _confirm_to_erp(shipment: Shipment) -> None:
    order = shipment.order
    outbox_enqueue(
        destination_code="erp",
        type="shipment.confirmed",
        subject=shipment.number,
        payload={
            "order_number": order.number if order else "",
            "shipment_number": shipment.number,
            "carrier_scac": shipment.carrier.scac,
            "tracking_numbers": shipment.tracking_numbers,
            "freight_estimate": "",
            "rated": False,
        },
        idempotency_key=f"shipment.confirmed:{shipment.number}",
        correlation_id=order.number if order else "",
    )
