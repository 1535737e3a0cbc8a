"""Shape checks on canonical event data before a handler applies it.

Connectors produce canonical ``data`` (integrations/events.py lists the keys
per type); a sender can still put an object where text belongs, a 300
character order number, or a milestone ``kind`` nobody knows. PostgreSQL
would refuse some of these with a bare ``DataError`` and SQLite would store
them; checking here gives the same readable reason on every database and
keeps the bad event in ``needs_attention`` instead of half-applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.errors import EventRejected
from integrations.events import EventType
from shipments.models import ShipmentStatus, TrackingEvent

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
