"""Map DCSA Track & Trace events from ocean carriers to canonical events.

Version 2.2 sends a JSON array of events with ``eventType``,
``eventClassifierCode`` and a type-specific code
(``transportEventTypeCode``, ``equipmentEventTypeCode``); version 3.0 sends
``{"events": [...]}`` with those inside ``eventClassification``. The rules:

- Only actual (``ACT``) TRANSPORT and EQUIPMENT events move a consignment
  and become milestones. The code looked up is ``<type>.<code>``, for
  example ``TRANSPORT.ARRI`` or ``EQUIPMENT.LOAD``.
- SHIPMENT events (booking and bill-of-lading document steps), IOT and
  REEFER readings, and estimated or planned events are read and left
  aside: they say nothing about where the goods are now.
- The tracking number is the transport document (bill of lading)
  reference, else the booking reference, else the container number.
- ``eventID`` is the carrier's event id, so a repeated event is stored
  once; an event without one is keyed on what it says.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from integrations.connectors.carrier.scans import Scan, Unusable, map_scans, text
from integrations.events import ParseResult
from integrations.timezones import TimestampError, resolve_event_time

if TYPE_CHECKING:
    from integrations.mappings import CodeLookup

logger = logging.getLogger(__name__)

_MOVEMENTS = {
    "TRANSPORT": "transportEventTypeCode",
    "EQUIPMENT": "equipmentEventTypeCode",
}


def parse_tracking(
    body: bytes, *, source: str, carrier_scac: str, lookup: CodeLookup
) -> ParseResult:
    """Turn a DCSA event list (2.2 or 3.0) into canonical shipment events."""
    result = ParseResult()
    try:
        events = _events(body)
    except Unusable as exc:
        result.problems.append(exc.problem)
        return result

    aside = 0
    for index, event in enumerate(events):
        read = _read(event, f"event {index}")
        if read is None:
            aside += 1
            continue
        number, scan = read
        map_scans(
            result,
            [scan],
            tracking_number=number,
            source=source,
            carrier_scac=carrier_scac or "DCSA",
            lookup=lookup,
        )
    if aside:
        logger.info(
            "DCSA events left aside (documents, sensors, estimates): %s",
            aside,
            extra={"connection": source},
        )

    return result


def _events(body: bytes) -> list[Any]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # decode, size or depth
        raise Unusable("invalid_message", f"DCSA body is not JSON: {exc}") from exc
    if isinstance(document, dict):
        document = document.get("events")
    if not isinstance(document, list):
        raise Unusable("invalid_message", "DCSA body holds no event list")
    return document


def _read(event: Any, label: str) -> tuple[str, Scan | Unusable] | None:
    """Return (tracking number, scan or problem), or None for an event left aside."""
    if not isinstance(event, dict):
        return "", Unusable("invalid_value", f"{label}: not a JSON object")
    classification = event.get("eventClassification")
    fields = classification if isinstance(classification, dict) else event
    kind = text(fields.get("eventTypeCode") or fields.get("eventType"))
    if kind not in _MOVEMENTS or text(fields.get("eventClassifierCode")) != "ACT":
        return None

    label = f"{label} ({text(event.get('eventID')) or 'no eventID'})"
    code = text(fields.get(_MOVEMENTS[kind]))
    number = _reference(event)
    if not number:
        return "", Unusable(
            "invalid_value",
            f"{label}: no transport document, booking or equipment reference",
        )
    if not code:
        return number, Unusable(
            "invalid_value", f"{label}: {_MOVEMENTS[kind]} is missing"
        )
    return number, _scan(event, label, f"{kind}.{code}")


def _scan(event: dict[str, Any], label: str, code: str) -> Scan | Unusable:
    locode = _locode(event)
    value = event.get("eventDateTime")
    try:
        moment = resolve_event_time(
            value if isinstance(value, str) else "", country=locode[:2]
        )
    except TimestampError:
        return Unusable(
            "invalid_value", f"{label}: eventDateTime {value!r} is not a timestamp"
        )

    return Scan(
        carrier_id=text(event.get("eventID")),
        code=code,
        description=text(event.get("changeRemark")),
        moment=moment,
        city=locode,
        state="",
        country=locode[:2],
    )


def _reference(event: dict[str, Any]) -> str:
    references: dict[str, str] = {}
    for item in event.get("documentReferences") or []:
        if isinstance(item, dict):
            kind = text(item.get("documentReferenceType"))
            references.setdefault(kind, text(item.get("documentReferenceValue")))
    details = event.get("shipmentDetails")
    if isinstance(details, dict):
        items = [details.get("documentReference")]
        items += details.get("additionalDocumentReferences") or []
        for item in items:
            if isinstance(item, dict):
                kind = text(item.get("typeCode"))
                references.setdefault(kind, text(item.get("reference")))
    equipment = event.get("equipmentDetails")
    container = text(
        equipment.get("equipmentReference")
        if isinstance(equipment, dict)
        else event.get("equipmentReference")
    )

    return references.get("TRD") or references.get("BKG") or container


def _locode(event: dict[str, Any]) -> str:
    """Return the UN/LOCODE of the event's place, or ''."""
    for key in ("eventLocation", "transportCall"):
        place = event.get(key)
        if not isinstance(place, dict):
            continue
        nested = (
            place.get("location") if isinstance(place.get("location"), dict) else {}
        )
        code = text(place.get("UNLocationCode")) or text(nested.get("UNLocationCode"))
        if code:
            return code
    return ""
