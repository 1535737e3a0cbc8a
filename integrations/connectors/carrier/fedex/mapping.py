"""Map FedEx tracking replies to canonical events.

Two shapes are read, told apart by their first byte:

- the Web Services ``TrackReply`` (XML, v7): ``CompletedTrackDetails`` /
  ``TrackDetails`` with ``Events`` (``Timestamp``, ``EventType``,
  ``EventDescription``, ``StatusExceptionCode``, ``Address``);
- the Track API (JSON): ``output.completeTrackResults[].trackResults[]``
  with ``scanEvents`` (``date``, ``eventType``, ``eventDescription``,
  ``exceptionCode``, ``scanLocation``) and a per-result ``error``.

The code is FedEx's scan ``EventType``. A reply that matches several
shipments (``DuplicateWaybill``) is ambiguous: nothing is applied and a
person chooses. A carrier error for a tracking number (not found) is a
problem with FedEx's own words.

The estimated delivery is ``EstimatedDeliveryTimestamp`` in XML; in JSON
the ``dateAndTimes`` entry of type ``ESTIMATED_DELIVERY``, else the end of
``estimatedDeliveryTimeWindow``. A time without an offset is read at the
destination address.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element

from integrations.connectors.carrier.scans import (
    Estimate,
    Scan,
    Unusable,
    estimate_at,
    map_scans,
    text,
)
from integrations.connectors.carrier.xml import child, child_text, children, parse_xml
from integrations.events import ParseResult
from integrations.timezones import ResolvedTime, TimestampError, resolve_event_time

if TYPE_CHECKING:
    from integrations.mappings import CodeLookup

_ERROR_SEVERITIES = {"ERROR", "FAILURE"}


def parse_tracking(
    body: bytes, *, source: str, carrier_scac: str, lookup: CodeLookup
) -> ParseResult:
    """Turn a FedEx TrackReply (XML) or Track API response (JSON) into events."""
    result = ParseResult()
    try:
        if body.lstrip()[:1] == b"<":
            tracks = _xml_tracks(parse_xml(body, carrier="FedEx"))
        else:
            tracks = _json_tracks(body)
    except Unusable as exc:
        result.problems.append(exc.problem)
        return result

    for tracking_number, scans, estimate in tracks:
        map_scans(
            result,
            scans,
            tracking_number=tracking_number,
            source=source,
            carrier_scac=carrier_scac or "FedEx",
            lookup=lookup,
            estimate=estimate,
        )

    return result


_Track = tuple[str, list[Scan | Unusable], Estimate | None]


# --- Web Services TrackReply (XML) -------------------------------------------


def _xml_tracks(root: Element) -> list[_Track]:
    if child_text(root, "HighestSeverity") in _ERROR_SEVERITIES:
        message = child_text(root, "Notifications", "Message")
        raise Unusable("invalid_message", f"FedEx refused the request: {message}")
    tracks = []
    for completed in children(root, "CompletedTrackDetails"):
        details = list(children(completed, "TrackDetails"))
        if child_text(completed, "DuplicateWaybill") == "true":
            tracks.append(_ambiguous(details))
            continue
        tracks.extend(_xml_track(detail) for detail in details)

    if not tracks:
        raise Unusable("invalid_message", "FedEx TrackReply holds no TrackDetails")
    return tracks


def _ambiguous(details: list[Element]) -> _Track:
    number = child_text(details[0], "TrackingNumber") if details else ""
    problem = Unusable(
        "unknown_reference",
        f"FedEx tracking number {number} matches {len(details)} shipments "
        "(DuplicateWaybill); choose one by its unique identifier",
    )
    return number, [problem], None


def _xml_track(detail: Element) -> _Track:
    number = child_text(detail, "TrackingNumber")
    notification = child(detail, "Notification")
    if child_text(notification, "Severity") in _ERROR_SEVERITIES:
        message = child_text(notification, "Message")
        problem = Unusable("unknown_reference", f"FedEx {number}: {message}")
        return number, [problem], None

    signed_by = child_text(detail, "DeliverySignatureName")
    events = list(children(detail, "Events"))
    if not events:
        problem = Unusable(
            "invalid_value", f"FedEx {number}: no scan events and no status code"
        )
        return number, [problem], None
    scans = [
        _xml_scan(event, f"{number} event {index}", signed_by)
        for index, event in enumerate(events)
    ]

    return number, scans, _xml_estimate(detail)


def _xml_estimate(detail: Element) -> Estimate | None:
    """Return ``EstimatedDeliveryTimestamp``, read at the destination."""
    address = child(detail, "DestinationAddress")
    return estimate_at(
        child_text(detail, "EstimatedDeliveryTimestamp"),
        city=child_text(address, "City"),
        state=child_text(address, "StateOrProvinceCode"),
        country=child_text(address, "CountryCode"),
    )


def _xml_scan(event: Element, label: str, signed_by: str) -> Scan | Unusable:
    code = child_text(event, "EventType")
    if not code:
        return Unusable("invalid_value", f"{label}: EventType is missing")
    address = child(event, "Address")
    city = child_text(address, "City")
    state = child_text(address, "StateOrProvinceCode")
    country = child_text(address, "CountryCode")
    try:
        moment = _moment(child_text(event, "Timestamp"), label, city, state, country)
    except Unusable as exc:
        return exc

    return Scan(
        carrier_id="",
        code=code,
        description=child_text(event, "EventDescription"),
        moment=moment,
        city=city,
        state=state,
        country=country,
        reason=child_text(event, "StatusExceptionCode"),
        signed_by=signed_by,
    )


def _moment(
    value: str, label: str, city: str, state: str, country: str
) -> ResolvedTime:
    try:
        return resolve_event_time(value, city=city, state=state, country=country)
    except TimestampError as exc:
        raise Unusable(
            "invalid_value", f"{label}: timestamp {value!r} is not a timestamp"
        ) from exc


# --- Track API (JSON) ----------------------------------------------------------


def _json_tracks(body: bytes) -> list[_Track]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # decode, size or depth
        raise Unusable("invalid_message", f"FedEx body is not JSON: {exc}") from exc
    output = document.get("output") if isinstance(document, dict) else None
    complete = output.get("completeTrackResults") if isinstance(output, dict) else None
    if not isinstance(complete, list):
        raise Unusable("invalid_message", "FedEx body has no completeTrackResults")

    tracks = []
    for entry in complete:
        results = entry.get("trackResults") if isinstance(entry, dict) else None
        for track in results if isinstance(results, list) else []:
            tracks.append(_json_track(entry, track))
    return tracks


def _json_track(entry: dict[str, Any], track: Any) -> _Track:
    number = text(entry.get("trackingNumber"))
    if not isinstance(track, dict):
        return number, [Unusable("invalid_value", f"{number}: not a JSON object")], None
    events = track.get("scanEvents")
    error = track.get("error") if isinstance(track.get("error"), dict) else {}
    if not events and error:
        message = text(error.get("message")) or text(error.get("code"))
        problem = Unusable("unknown_reference", f"FedEx {number}: {message}")
        return number, [problem], None
    if not isinstance(events, list) or not events:
        problem = Unusable("invalid_value", f"FedEx {number}: no scan events")
        return number, [problem], None

    signed_by = text((track.get("deliveryDetails") or {}).get("receivedByName"))
    scans = [
        _json_scan(event, f"{number} event {index}", signed_by)
        for index, event in enumerate(events)
    ]

    return number, scans, _json_estimate(track)


def _json_estimate(track: dict[str, Any]) -> Estimate | None:
    """Return the estimated delivery time, else the end of its window."""
    value = next(
        (
            item.get("dateTime")
            for item in _list(track.get("dateAndTimes"))
            if isinstance(item, dict) and item.get("type") == "ESTIMATED_DELIVERY"
        ),
        None,
    )
    if value is None:
        window = _dict(_dict(track.get("estimatedDeliveryTimeWindow")).get("window"))
        value = window.get("ends")
    address = _dict(track.get("lastUpdatedDestinationAddress")) or _dict(
        _dict(track.get("recipientInformation")).get("address")
    )

    return estimate_at(
        value,
        city=text(address.get("city")),
        state=text(address.get("stateOrProvinceCode")),
        country=text(address.get("countryCode")),
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _json_scan(event: Any, label: str, signed_by: str) -> Scan | Unusable:
    if not isinstance(event, dict):
        return Unusable("invalid_value", f"{label}: not a JSON object")
    code = text(event.get("eventType"))
    if not code:
        return Unusable("invalid_value", f"{label}: eventType is missing")
    place = (
        event.get("scanLocation") if isinstance(event.get("scanLocation"), dict) else {}
    )
    city, state, country = (
        text(place.get(key)) for key in ("city", "stateOrProvinceCode", "countryCode")
    )
    value = event.get("date")
    try:
        moment = _moment(
            value if isinstance(value, str) else "", label, city, state, country
        )
    except Unusable as exc:
        return exc

    return Scan(
        carrier_id="",
        code=code,
        description=text(event.get("eventDescription")),
        moment=moment,
        city=city,
        state=state,
        country=country,
        reason=text(event.get("exceptionCode")),
        signed_by=signed_by,
    )
