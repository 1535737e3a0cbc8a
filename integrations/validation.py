"""Shape checks on canonical event data before a handler applies it.

Connectors produce canonical ``data`` (integrations/events.py lists the keys
per type); a sender can still put an object where text belongs, a 300
character order number, or a milestone ``kind`` nobody knows. PostgreSQL
would refuse some of these with a bare ``DataError`` and SQLite would store
them; checking here gives the same readable reason on every database and
keeps the bad event in ``needs_attention`` instead of half-applied.

It also says who may send what: which event types each kind of HTTP JSON
connection may send, which shipments a carrier may move, and how far ahead
of the clock an actual milestone may lie.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from integrations.errors import EventRejected
from integrations.events import EventType
from integrations.models import Connection
from masterdata.models import Carrier
from shipments.models import ShipmentStatus, TrackingEvent
from shipments.services import shipment_get_for_event

# Document types the portal serves; anything else could be a script in
# disguise and is refused before it reaches storage.
DOCUMENT_CONTENT_TYPES = frozenset(
    {"application/pdf", "image/png", "image/jpeg", "image/tiff"}
)


@dataclass(frozen=True)
class _Text:
    """A text field: its longest length, and whether it must be present."""

    max_length: int
    required: bool = False


@dataclass(frozen=True)
class _Choice:
    choices: frozenset[str]
    required: bool = False


_MILESTONE = {
    "shipment_number": _Text(40),
    "tracking_number": _Text(40),
    "status": _Choice(frozenset(ShipmentStatus.values), required=True),
    "kind": _Choice(frozenset(TrackingEvent.Kind.values)),
    "external_code": _Text(40),
    "city": _Text(80),
    "state": _Text(40),
    "reason_code": _Text(40),
    "signed_by": _Text(120),
}

_SPECS: dict[str, dict[str, _Text | _Choice]] = {
    EventType.ORDER_RELEASED: {
        "order_number": _Text(30, required=True),
        "account_number": _Text(20, required=True),
        "po_number": _Text(40),
        "ship_from": _Text(20),
        "ship_to": _Text(30),
        "requested_date": _Text(10),
    },
    EventType.ORDER_ALLOCATED: {"order_number": _Text(30, required=True)},
    EventType.ORDER_PICKED: {"order_number": _Text(30, required=True)},
    EventType.SHIPMENT_PACKED: {
        "order_number": _Text(30, required=True),
        "shipment_number": _Text(40, required=True),
        "ship_from": _Text(20),
    },
    EventType.SHIPMENT_PLANNED: {
        "shipment_number": _Text(40, required=True),
        "carrier_scac": _Text(4, required=True),
        "service_code": _Text(30),
        "currency": _Text(3),
    },
    EventType.SHIPMENT_MILESTONE: _MILESTONE,
    EventType.SHIPMENT_DELIVERED: _MILESTONE,
    EventType.SHIPMENT_EXCEPTION: _MILESTONE,
    EventType.INVOICE_RELEASED: {
        "order_number": _Text(30, required=True),
        "invoice_number": _Text(60, required=True),
        "currency": _Text(3),
    },
}

# Keys that hold lists of text, with the longest item.
_TEXT_LISTS = {"tracking_numbers": 40}
# Keys that hold an attached document.
_DOCUMENTS = ("document", "pod")


def event_data_validate(*, type: str, data: Any) -> None:  # noqa: A002
    """Raise ``EventRejected`` naming the first field of ``data`` that is wrong."""
    if not isinstance(data, dict):
        raise EventRejected("invalid_message", "data must be a JSON object")
    for name, rule in _SPECS.get(type, {}).items():
        _check_field(name, data.get(name), rule)
    for name, longest in _TEXT_LISTS.items():
        if name in data:
            _check_text_list(name, data[name], longest)
    for name in _DOCUMENTS:
        if data.get(name) is not None:
            _check_document(name, data[name])
    if type in (
        EventType.SHIPMENT_MILESTONE,
        EventType.SHIPMENT_DELIVERED,
        EventType.SHIPMENT_EXCEPTION,
    ) and not (data.get("shipment_number") or data.get("tracking_number")):
        raise EventRejected(
            "invalid_message", "a milestone names no shipment_number or tracking_number"
        )
    if type in _SHIPMENT_MOVES:
        _check_estimate(data)


def _check_estimate(data: dict[str, Any]) -> None:
    """Refuse an ``eta`` that is not a time with an offset, or a bad ``eta_date``.

    Carriers, the TMS and X12 214s all send estimates; a time without an
    offset would be stored as if it were in the server's zone.
    """
    eta, eta_date = data.get("eta"), data.get("eta_date")
    if eta not in (None, ""):
        try:
            moment = dt.datetime.fromisoformat(eta)
        except (TypeError, ValueError) as exc:
            raise EventRejected(
                "invalid_value", f"eta {eta!r:.60} is not a timestamp"
            ) from exc
        if moment.tzinfo is None:
            raise EventRejected("invalid_value", f"eta {eta!r:.60} has no offset")
    if eta_date not in (None, ""):
        try:
            dt.date.fromisoformat(eta_date)
        except (TypeError, ValueError) as exc:
            raise EventRejected(
                "invalid_value", f"eta_date {eta_date!r:.60} is not a date"
            ) from exc


def _check_field(name: str, value: Any, rule: _Text | _Choice) -> None:
    if value in (None, ""):
        if rule.required:
            raise EventRejected("invalid_message", f"{name} is missing")
        return
    if isinstance(rule, _Choice):
        if not isinstance(value, str) or value not in rule.choices:
            allowed = ", ".join(sorted(rule.choices))
            raise EventRejected(
                "invalid_value", f"{name} {value!r:.60} is not one of: {allowed}"
            )
        return
    if not isinstance(value, str):
        raise EventRejected(
            "invalid_value", f"{name} must be text, not {_json_kind(value)}"
        )
    if len(value) > rule.max_length:
        raise EventRejected(
            "invalid_value",
            f"{name} is {len(value)} characters; the most is {rule.max_length}",
        )


def _check_text_list(name: str, value: Any, longest: int) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EventRejected("invalid_value", f"{name} must be a list of text")
    too_long = next((item for item in value if len(item) > longest), None)
    if too_long is not None:
        raise EventRejected(
            "invalid_value",
            f"{name} holds {too_long[:60]!r}, over {longest} characters",
        )


def _check_document(name: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise EventRejected("invalid_value", f"{name} must be an object")
    content_type = value.get("content_type") or ""
    if content_type not in DOCUMENT_CONTENT_TYPES:
        allowed = ", ".join(sorted(DOCUMENT_CONTENT_TYPES))
        raise EventRejected(
            "invalid_value",
            f"{name} content_type {content_type!r:.60} is not one of: {allowed}",
        )


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    return "a number" if isinstance(value, int | float) else type(value).__name__


_SHIPMENT_MOVES = frozenset(
    {
        EventType.SHIPMENT_MILESTONE,
        EventType.SHIPMENT_DELIVERED,
        EventType.SHIPMENT_EXCEPTION,
    }
)

# What each kind of HTTP JSON connection may send (DESIGN §5, "from"). An
# event outside its sender's list is refused before it is stored: the TMS
# cannot invoice an order, and a carrier cannot plan a shipment.
_ALLOWED_TYPES: dict[str, frozenset[str]] = {
    Connection.Kind.ERP: frozenset(
        {
            EventType.ORDER_RELEASED,
            EventType.INVOICE_RELEASED,
            EventType.RETURN_AUTHORIZED,
        }
    ),
    Connection.Kind.WMS: frozenset(
        {
            EventType.ORDER_ALLOCATED,
            EventType.ORDER_PICKED,
            EventType.SHIPMENT_PACKED,
            EventType.INVENTORY_SNAPSHOT,
            EventType.INVENTORY_RECEIVED,
            EventType.RETURN_RECEIVED,
        }
    ),
    Connection.Kind.TMS: _SHIPMENT_MOVES
    | {EventType.SHIPMENT_PLANNED, EventType.FREIGHT_INVOICED},
    Connection.Kind.CARRIER: _SHIPMENT_MOVES | {EventType.FREIGHT_INVOICED},
    Connection.Kind.PARTNER: frozenset(),
}
# Families a kind may send whatever their member: the ERP owns master data.
_ALLOWED_PREFIXES: dict[str, tuple[str, ...]] = {
    Connection.Kind.ERP: ("masterdata.",),
}


def connection_may_send(*, connection: Connection, event_type: str) -> bool:
    """Return whether a connection may send events of this type.

    File-drop connections (X12 and EDIFACT) are exempt: one drop folder
    carries many document types from many partners (214s and 990s from
    carriers, 945s and 997s from a 3PL), so the document, not the
    connection, says what arrived, and each mapper accepts only the
    documents it knows.
    """
    if connection.protocol != Connection.Protocol.HTTP_JSON:
        return True
    if event_type in _ALLOWED_TYPES.get(connection.kind, frozenset()):
        return True

    return event_type.startswith(_ALLOWED_PREFIXES.get(connection.kind, ()))


def event_sender_validate(*, connection: Connection, type: str, data: Any) -> None:  # noqa: A002
    """Raise ``EventRejected`` when the sender may not make this change.

    A carrier connection with a SCAC moves only shipments it carries (or
    whose carrier is not yet known), and no actual milestone may lie further
    in the future than ``WAYBILL_MAX_FUTURE_SKEW_HOURS``: a clock a little
    fast is tolerated, a scan dated years ahead is not. Estimates may lie in
    the future. Expects ``data`` to have passed ``event_data_validate``.
    """
    if type not in _SHIPMENT_MOVES:
        return
    if (data.get("kind") or TrackingEvent.Kind.ACTUAL) == TrackingEvent.Kind.ACTUAL:
        _check_not_future(data.get("occurred_at"))
    if connection.kind == Connection.Kind.CARRIER and connection.scac:
        _check_carrier_owns(connection, data)


def _check_not_future(value: Any) -> None:
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise EventRejected(
            "invalid_value", f"occurred_at {value!r:.60} is not a timestamp"
        ) from exc
    if moment.tzinfo is None:
        raise EventRejected("invalid_value", f"occurred_at {value!r} has no offset")
    hours = getattr(settings, "WAYBILL_MAX_FUTURE_SKEW_HOURS", 24)
    if moment > timezone.now() + dt.timedelta(hours=hours):
        raise EventRejected(
            "invalid_value",
            f"actual milestone at {value} is more than {hours:g} h in the "
            "future; only an estimate may lie ahead",
        )


def _check_carrier_owns(connection: Connection, data: dict) -> None:
    """Refuse a carrier's event for a shipment another carrier carries.

    Locks the shipment as its handler will (the same lookup), so the check
    and the change see one state.
    """
    shipment = shipment_get_for_event(data=data)
    if shipment.carrier_id is None:
        return
    scac = Carrier.objects.values_list("scac", flat=True).get(pk=shipment.carrier_id)
    if scac != connection.scac:
        raise EventRejected(
            "unknown_reference",
            f"shipment {shipment.number} travels with carrier {scac}; "
            f"{connection.code} (SCAC {connection.scac}) may not move it",
        )
