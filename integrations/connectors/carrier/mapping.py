"""Map carrier tracking bodies to canonical events, choosing the carrier.

Each carrier has a package here (``ups``, ``fedex``, ``usps``,
``canadapost``, ``dhl``, ``dcsa`` for ocean carriers, and the aggregators
``easypost`` and ``aftership``) with ``client.py`` (transport) and ``mapping.py`` (pure:
body bytes to a ``ParseResult``). The mapping is
chosen by the connection's code: ``carrier-<name>`` or
``carrier-<name>-<anything>`` (for example ``carrier-fedex-ground``) uses
the package ``<name>``. A SCAC cannot choose it, because aggregators such
as EasyPost have none and one carrier sends several (FedEx Express and
Ground); the SCAC names the carrier in problem reasons. Every other carrier
connection (the demo's ``carrier-crx``) reads the generic JSON shapes:

- generic: ``{"tracking_number": ..., "events": [{"id"?, "code",
  "description"?, "occurred_at", "city"?, "state"?, "country"?,
  "reason"?}]}``;
- activities: ``{"tracking_number": ..., "activities": [...]}`` with UPS
  activity objects, and UPS's own ``{"trackResponse": ...}``.

Each scan becomes one event or one problem; a bad scan never sinks the rest
of the message (B05). Codes go through the connection's code mapping and an
unknown code is a problem, never a default status (B01).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from integrations.connectors.carrier.aftership import mapping as aftership
from integrations.connectors.carrier.canadapost import mapping as canadapost
from integrations.connectors.carrier.dcsa import mapping as dcsa
from integrations.connectors.carrier.dhl import mapping as dhl
from integrations.connectors.carrier.easypost import mapping as easypost
from integrations.connectors.carrier.fedex import mapping as fedex
from integrations.connectors.carrier.scans import (
    Estimate,
    Scan,
    Unusable,
    map_scans,
    text,
)
from integrations.connectors.carrier.ups import mapping as ups
from integrations.connectors.carrier.usps import mapping as usps
from integrations.connectors.carrier.xml import local, parse_xml
from integrations.events import ParseResult
from integrations.timezones import TimestampError, resolve_event_time

if TYPE_CHECKING:
    from integrations.mappings import CodeLookup

CarrierParser = Callable[..., ParseResult]

# Connection code ``carrier-<name>[-...]`` → the carrier's mapping.
CARRIER_PARSERS: dict[str, CarrierParser] = {
    "ups": ups.parse_tracking,
    "fedex": fedex.parse_tracking,
    "usps": usps.parse_tracking,
    "canadapost": canadapost.parse_tracking,
    "easypost": easypost.parse_tracking,
    "dhl": dhl.parse_tracking,
    "aftership": aftership.parse_tracking,
    "dcsa": dcsa.parse_tracking,
}

_Reader = Callable[[Any, str], Scan]
_Batch = tuple[str, list[Any], _Reader, Estimate | None]
_BOM = b"\xef\xbb\xbf"


def carrier_parser_for(connection_code: str) -> CarrierParser:
    """Return the mapping for a carrier connection, by its code's carrier name."""
    parts = connection_code.split("-")
    if len(parts) >= 2 and parts[0] == "carrier":
        return CARRIER_PARSERS.get(parts[1], parse_generic)
    return parse_generic


def parse_carrier_webhook(
    body: bytes, *, source: str, carrier_scac: str, lookup: CodeLookup
) -> ParseResult:
    """Turn one carrier tracking body into canonical shipment events."""
    parser = carrier_parser_for(source)
    return parser(body, source=source, carrier_scac=carrier_scac, lookup=lookup)


def parse_generic(
    body: bytes, *, source: str, carrier_scac: str, lookup: CodeLookup
) -> ParseResult:
    """Read the generic JSON shapes (events, activities, or UPS's own)."""
    result = ParseResult()
    try:
        batches = _batches(body)
    except Unusable as exc:
        result.problems.append(exc.problem)
        return result

    for tracking_number, items, reader, estimate in batches:
        prefix = f"{tracking_number} " if len(batches) > 1 else ""
        scans = [
            _read(reader, item, f"{prefix}event {index}")
            for index, item in enumerate(items)
        ]
        map_scans(
            result,
            scans,
            tracking_number=tracking_number,
            source=source,
            carrier_scac=carrier_scac,
            lookup=lookup,
            estimate=estimate,
        )

    return result


def _read(reader: _Reader, item: Any, label: str) -> Scan | Unusable:
    try:
        return reader(item, label)
    except Unusable as exc:
        return exc


def _batches(body: bytes) -> list[_Batch]:
    """Return (tracking number, items, reader, estimate) for each package.

    Only UPS's own ``trackResponse`` carries an estimate; the generic shapes
    have none.
    """
    if body.removeprefix(_BOM).lstrip()[:1] == b"<":
        raise Unusable("unsupported_document", _xml_refusal(body))
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # decode, size or depth
        raise Unusable("invalid_message", f"body is not JSON: {exc}") from exc
    refusal = _foreign_standard(document)
    if refusal:
        raise Unusable("unsupported_document", refusal)
    if not isinstance(document, dict):
        raise Unusable("invalid_message", "body must be a JSON object")
    if "trackResponse" in document:
        return [
            (number, activities, ups.read_activity, estimate)
            for number, activities, estimate in ups.track_response_batches(
                document["trackResponse"]
            )
        ]

    tracking_number = text(document.get("tracking_number"))
    if not tracking_number:
        raise Unusable("invalid_message", "tracking_number is missing")
    if "events" in document:
        key, reader = "events", _read_generic
    elif "activities" in document:
        key, reader = "activities", ups.read_activity
    else:
        raise Unusable("invalid_message", "body has neither events nor activities")
    if not isinstance(document[key], list):
        raise Unusable("invalid_message", f"{key} must be a JSON array")

    return [(tracking_number, document[key], reader, None)]


def _xml_refusal(body: bytes) -> str:
    """Name an XML body sent where JSON tracking events are read."""
    root = parse_xml(body.removeprefix(_BOM), carrier="carrier")
    if local(root) == "EPCISDocument":
        return "GS1 EPCIS document (XML) is not a document this hub accepts"
    return (
        f"XML document <{local(root)}> is not a document this hub accepts "
        "on this connection, which reads JSON tracking events"
    )


def _foreign_standard(document: Any) -> str:
    """Return why a JSON body in a known standard is refused here, or ''.

    GS1 EPCIS (item-level supply-chain visibility) describes objects the
    hub does not track; DCSA Track & Trace is read only on a DCSA
    connection (``carrier-dcsa``). Both are refused here by name, so the
    reason says what arrived rather than which key was missing.
    """
    if isinstance(document, dict):
        if document.get("type") == "EPCISDocument" or "epcisBody" in document:
            return "GS1 EPCIS document is not a document this hub accepts"
        events = document.get("events")
        if isinstance(events, list) and any(map(_is_dcsa_event, events)):
            return _DCSA_ELSEWHERE.format(version=3)
    if isinstance(document, list) and any(map(_is_dcsa_event, document)):
        return _DCSA_ELSEWHERE.format(version=2)
    return ""


_DCSA_ELSEWHERE = (
    "DCSA Track & Trace {version} events are read on a DCSA connection "
    "(carrier-dcsa), not on this one"
)


def _is_dcsa_event(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    classification = item.get("eventClassification")
    return "eventClassifierCode" in item or (
        isinstance(classification, dict) and "eventClassifierCode" in classification
    )


def _read_generic(item: Any, label: str) -> Scan:
    """Read one event of the generic shape."""
    if not isinstance(item, dict):
        raise Unusable("invalid_value", f"{label}: not a JSON object")
    code = text(item.get("code"))
    if not code:
        raise Unusable("invalid_value", f"{label}: code is missing")
    city, state, country = (text(item.get(key)) for key in ("city", "state", "country"))

    value = item.get("occurred_at")
    if not isinstance(value, str):
        raise Unusable("invalid_value", f"{label}: occurred_at is missing")
    try:
        moment = resolve_event_time(value, city=city, state=state, country=country)
    except TimestampError as exc:
        raise Unusable(
            "invalid_value", f"{label}: occurred_at {value!r} is not a timestamp"
        ) from exc

    return Scan(
        carrier_id=text(item.get("id")),
        code=code,
        description=text(item.get("description")),
        moment=moment,
        city=city,
        state=state,
        country=country,
        reason=text(item.get("reason")),
    )
