"""Map DHL tracking responses to canonical events.

Two JSON shapes share a ``shipments`` list and are told apart by their
events:

- Unified API: each shipment's ``id`` is the tracking number; events carry
  an ISO ``timestamp`` (often without a zone), a coarse ``statusCode``
  (``pre-transit``, ``transit``, ``delivered``, ``failure``), a free-text
  ``status`` and a location address. ``statusCode`` is the code: DHL's own
  samples pair ``pre-transit`` with the text ``DELIVERED``, and the text
  is never trusted over the code.
- MyDHL Express API: ``shipmentTrackingNumber``; events carry ``date``,
  ``time`` and ``GMTOffset`` (exact), a ``typeCode`` (the code), a
  ``description`` and the service area; a delivery names ``signedBy``.

Both give the estimated delivery as the shipment's
``estimatedTimeOfDelivery``; without an offset it is read at the
destination (Unified ``destination``, Express ``receiverDetails``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from integrations.connectors.carrier.scans import (
    Estimate,
    Scan,
    Unusable,
    estimate_at,
    in_utc,
    map_scans,
    text,
)
from integrations.events import ParseResult
from integrations.timezones import (
    TZ_PAYLOAD,
    ResolvedTime,
    TimestampError,
    parse_date_time,
    parse_offset,
    resolve_event_time,
)

if TYPE_CHECKING:
    from integrations.mappings import CodeLookup


def parse_tracking(
    body: bytes, *, source: str, carrier_scac: str, lookup: CodeLookup
) -> ParseResult:
    """Turn a DHL Unified or MyDHL Express tracking response into events."""
    result = ParseResult()
    try:
        shipments = _shipments(body)
    except Unusable as exc:
        result.problems.append(exc.problem)
        return result

    for shipment in shipments:
        number, scans = _track(shipment)
        map_scans(
            result,
            scans,
            tracking_number=number,
            source=source,
            carrier_scac=carrier_scac or "DHL",
            lookup=lookup,
            estimate=_estimate(shipment),
        )

    return result


def _shipments(body: bytes) -> list[dict[str, Any]]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # decode, size or depth
        raise Unusable("invalid_message", f"DHL body is not JSON: {exc}") from exc
    if isinstance(document, dict) and isinstance(
        document.get("trackingResponse"), dict
    ):
        document = document["trackingResponse"]
    shipments = document.get("shipments") if isinstance(document, dict) else None
    if not isinstance(shipments, list) or not shipments:
        raise Unusable("invalid_message", "DHL body has no shipments")
    if not all(isinstance(shipment, dict) for shipment in shipments):
        raise Unusable("invalid_message", "a DHL shipment must be a JSON object")
    return shipments


def _track(shipment: dict[str, Any]) -> tuple[str, list[Scan | Unusable]]:
    number = text(shipment.get("shipmentTrackingNumber")) or text(shipment.get("id"))
    events = shipment.get("events")
    if not number:
        return "", [Unusable("invalid_message", "DHL shipment has no tracking number")]
    if not isinstance(events, list) or not events:
        return number, [Unusable("invalid_value", f"DHL {number}: no events")]

    signed_by = text(shipment.get("signedBy"))
    return number, [
        _scan(event, f"{number} event {index}", signed_by)
        for index, event in enumerate(events)
    ]


def _estimate(shipment: dict[str, Any]) -> Estimate | None:
    """Return the shipment's estimated delivery, read at its destination."""
    unified = _mapping(_mapping(shipment.get("destination")).get("address"))
    express = _mapping(_mapping(shipment.get("receiverDetails")).get("postalAddress"))
    return estimate_at(
        shipment.get("estimatedTimeOfDelivery"),
        city=text(unified.get("addressLocality")) or text(express.get("cityName")),
        state=text(express.get("provinceCode")),
        country=text(unified.get("countryCode")) or text(express.get("countryCode")),
    )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _scan(event: Any, label: str, signed_by: str) -> Scan | Unusable:
    if not isinstance(event, dict):
        return Unusable("invalid_value", f"{label}: not a JSON object")
    try:
        if "typeCode" in event:
            return _express_scan(event, label, signed_by)
        return _unified_scan(event, label)
    except Unusable as exc:
        return exc


def _unified_scan(event: dict[str, Any], label: str) -> Scan:
    code = text(event.get("statusCode"))
    if not code:
        raise Unusable("invalid_value", f"{label}: statusCode is missing")
    location = event.get("location") if isinstance(event.get("location"), dict) else {}
    address = (
        location.get("address") if isinstance(location.get("address"), dict) else {}
    )
    city = text(address.get("addressLocality"))
    country = text(address.get("countryCode"))
    value = event.get("timestamp")
    try:
        moment = resolve_event_time(
            value if isinstance(value, str) else "", city=city, country=country
        )
    except TimestampError as exc:
        raise Unusable(
            "invalid_value", f"{label}: timestamp {value!r} is not a timestamp"
        ) from exc

    return Scan(
        carrier_id="",
        code=code,
        description=text(event.get("status")),
        moment=moment,
        city=city,
        state="",
        country=country,
    )


def _express_scan(event: dict[str, Any], label: str, signed_by: str) -> Scan:
    code = text(event.get("typeCode"))
    if not code:
        raise Unusable("invalid_value", f"{label}: typeCode is missing")
    areas = event.get("serviceArea")
    area = areas[0] if isinstance(areas, list) and areas else {}
    city = text(area.get("description")) if isinstance(area, dict) else ""

    return Scan(
        carrier_id="",
        code=code,
        description=text(event.get("description")),
        moment=_express_time(event, label),
        city=city,
        state="",
        country="",
        signed_by=text(event.get("signedBy")) or signed_by,
    )


def _express_time(event: dict[str, Any], label: str) -> ResolvedTime:
    raw = f"{event.get('date')} {event.get('time')} {event.get('GMTOffset')}"
    try:
        local = parse_date_time(event.get("date"), event.get("time"))
        offset = parse_offset(str(event.get("GMTOffset") or ""))
    except TimestampError as exc:
        raise Unusable(
            "invalid_value",
            f"{label}: date/time/GMTOffset {raw!r} is not a timestamp",
        ) from exc
    return ResolvedTime(in_utc(local.replace(tzinfo=offset)), TZ_PAYLOAD)
