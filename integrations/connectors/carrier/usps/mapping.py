"""Map USPS tracking replies (Web Tools XML and Tracking API v3 JSON) to events.

In the XML ``TrackResponse``, each ``TrackInfo`` is one tracking number;
its ``TrackSummary`` (the latest scan) and ``TrackDetail`` elements are
scans with ``EventCode``, ``Event``, ``EventDate`` (``April 28, 2015``),
``EventTime`` (``9:01 am``) and a place. USPS sends local time without a
zone, so the place decides the offset. A ``TrackInfo`` holding an
``Error`` (not found, duplicate) is a problem in USPS's words; the other
numbers of a batch are still applied.

The v3 JSON is a list of trackings, each with ``trackingNumber`` and
``trackingEvents`` (``eventCode``, ``eventType``, a local
``eventTimestamp``, ``GMTTimestamp`` and ``GMTOffset``): the GMT time wins,
then the local time with its offset, then the place.

The estimated delivery is USPS's prediction before its service-standard
expectation: ``PredictedDeliveryDate`` (and ``PredictedDeliveryTime``)
then ``ExpectedDeliveryDate`` in XML, ``predictedDeliveryTimeStamp``,
``predictedDeliveryDate`` then ``expectedDeliveryTimeStamp`` in JSON. A
time without an offset is read at the destination; a date stays a date.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

from integrations.connectors.carrier.scans import (
    Estimate,
    Scan,
    Unusable,
    estimate_at,
    estimate_on,
    in_utc,
    map_scans,
    text,
)
from integrations.connectors.carrier.xml import child, child_text, children, parse_xml
from integrations.events import ParseResult
from integrations.timezones import (
    TZ_PAYLOAD,
    ResolvedTime,
    TimestampError,
    parse_offset,
    parse_timestamp,
    resolve_event_time,
)

if TYPE_CHECKING:
    from integrations.mappings import CodeLookup

_MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
_Track = tuple[str, list[Scan | Unusable], Estimate | None]
_DATE = re.compile(r"([A-Za-z]+)\s+(\d{1,2}),\s*(\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})\s*([ap])\.?m\.?", re.IGNORECASE)


def parse_tracking(
    body: bytes, *, source: str, carrier_scac: str, lookup: CodeLookup
) -> ParseResult:
    """Turn a USPS TrackResponse (XML) or v3 tracking list (JSON) into events."""
    result = ParseResult()
    try:
        if body.lstrip()[:1] in (b"[", b"{"):
            tracks = _json_tracks(body)
        else:
            root = parse_xml(body, carrier="USPS")
            tracks = [
                (
                    info.get("ID", "").strip(),
                    _scans(info, info.get("ID", "").strip()),
                    _estimate(info),
                )
                for info in _track_infos(root)
            ]
    except Unusable as exc:
        result.problems.append(exc.problem)
        return result

    for number, scans, estimate in tracks:
        map_scans(
            result,
            scans,
            tracking_number=number,
            source=source,
            carrier_scac=carrier_scac or "USPS",
            lookup=lookup,
            estimate=estimate,
        )

    return result


def _track_infos(root: Element) -> list[Element]:
    if root.tag == "Error":
        description = child_text(root, "Description")
        raise Unusable("invalid_message", f"USPS refused the request: {description}")
    infos = list(children(root, "TrackInfo"))
    if not infos:
        raise Unusable("invalid_message", "USPS TrackResponse holds no TrackInfo")
    return infos


def _scans(info: Element, number: str) -> list[Scan | Unusable]:
    error = child(info, "Error")
    if error is not None:
        description = child_text(error, "Description")
        return [Unusable("unknown_reference", f"USPS {number}: {description}")]
    elements = list(children(info, "TrackSummary")) + list(
        children(info, "TrackDetail")
    )
    return [
        _scan(element, f"{number} event {index}")
        for index, element in enumerate(elements)
    ]


def _scan(element: Element, label: str) -> Scan | Unusable:
    code = child_text(element, "EventCode")
    if not code:
        return Unusable("invalid_value", f"{label}: EventCode is missing")
    city = child_text(element, "EventCity")
    state = child_text(element, "EventState")
    # An empty country means the United States in USPS's replies.
    country = child_text(element, "EventCountry") or "US"
    date_text = child_text(element, "EventDate")
    time_text = child_text(element, "EventTime")
    try:
        local = usps_local_time(date_text, time_text)
    except ValueError:
        return Unusable(
            "invalid_value",
            f"{label}: EventDate/EventTime {f'{date_text} {time_text}'!r} "
            "is not a timestamp",
        )

    return Scan(
        carrier_id="",
        code=code,
        description=child_text(element, "Event"),
        moment=resolve_event_time(local, city=city, state=state, country=country),
        city=city,
        state=state,
        country=country,
        signed_by=child_text(element, "Name"),
    )


def _estimate(info: Element) -> Estimate | None:
    """Return the predicted, else the expected, delivery of a TrackInfo."""
    for kind in ("Predicted", "Expected"):
        date_text = child_text(info, f"{kind}DeliveryDate")
        if not date_text:
            continue
        time_text = child_text(info, f"{kind}DeliveryTime")
        try:
            local = usps_local_time(date_text, time_text)
        except ValueError:
            continue
        if not time_text:
            return Estimate(eta_date=local.date())
        return estimate_at(
            local,
            city=child_text(info, "DestinationCity"),
            state=child_text(info, "DestinationState"),
            country="US",
        )
    return None


def usps_local_time(date_text: str, time_text: str) -> dt.datetime:
    """Read ``April 28, 2015`` and ``9:01 am`` as a naive local datetime.

    A missing time reads as midnight; a missing or unreadable date raises
    ``ValueError``. Month names are matched in English whatever the locale.
    """
    date_match = _DATE.fullmatch(date_text.strip())
    if date_match is None or date_match[1].lower() not in _MONTHS:
        raise ValueError(f"{date_text!r} is not a USPS date")
    day = dt.date(
        int(date_match[3]), _MONTHS[date_match[1].lower()], int(date_match[2])
    )
    if not time_text.strip():
        return dt.datetime.combine(day, dt.time())

    time_match = _TIME.fullmatch(time_text.strip())
    if time_match is None:
        raise ValueError(f"{time_text!r} is not a USPS time")
    hour = int(time_match[1]) % 12 + (12 if time_match[3].lower() == "p" else 0)

    return dt.datetime.combine(day, dt.time(hour, int(time_match[2])))


# --- Tracking API v3 (JSON) ----------------------------------------------------


def _json_tracks(body: bytes) -> list[_Track]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # decode, size or depth
        raise Unusable("invalid_message", f"USPS body is not JSON: {exc}") from exc
    trackings = document if isinstance(document, list) else [document]
    tracks = []
    for index, tracking in enumerate(trackings):
        if not isinstance(tracking, dict) or not text(tracking.get("trackingNumber")):
            raise Unusable("invalid_message", f"USPS tracking {index} has no number")
        number = text(tracking["trackingNumber"])
        events = tracking.get("trackingEvents")
        events = events if isinstance(events, list) else []
        tracks.append(
            (
                number,
                [
                    _json_scan(event, f"{number} event {position}")
                    for position, event in enumerate(events)
                ],
                _json_estimate(tracking),
            )
        )
    return tracks


def _json_estimate(tracking: dict) -> Estimate | None:
    """Return the predicted, else the expected, delivery of a v3 tracking."""
    place = {
        "city": text(tracking.get("destinationCity")),
        "state": text(tracking.get("destinationState")),
        "country": text(tracking.get("destinationCountryCode")) or "US",
    }
    return (
        estimate_at(tracking.get("predictedDeliveryTimeStamp"), **place)
        or estimate_on(tracking.get("predictedDeliveryDate"))
        or estimate_at(tracking.get("expectedDeliveryTimeStamp"), **place)
    )


def _json_scan(event: object, label: str) -> Scan | Unusable:
    if not isinstance(event, dict):
        return Unusable("invalid_value", f"{label}: not a JSON object")
    code = text(event.get("eventCode"))
    if not code:
        return Unusable("invalid_value", f"{label}: eventCode is missing")
    city, state = text(event.get("eventCity")), text(event.get("eventState"))
    country = text(event.get("eventCountry")) or "US"
    try:
        moment = _json_moment(event, city=city, state=state, country=country)
    except TimestampError:
        return Unusable(
            "invalid_value",
            f"{label}: eventTimestamp {event.get('eventTimestamp')!r} "
            "is not a timestamp",
        )

    return Scan(
        carrier_id="",
        code=code,
        description=text(event.get("eventType")),
        moment=moment,
        city=city,
        state=state,
        country=country,
        signed_by=text(event.get("name")),
    )


def _json_moment(event: dict, *, city: str, state: str, country: str) -> ResolvedTime:
    """Return the GMT time if given, else the local time with its offset."""
    gmt = event.get("GMTTimestamp")
    if isinstance(gmt, str) and gmt.strip():
        return resolve_event_time(gmt)
    local, _has_offset = parse_timestamp(event.get("eventTimestamp"))
    offset = event.get("GMTOffset")
    if local.tzinfo is None and isinstance(offset, str) and offset.strip():
        aware = local.replace(tzinfo=parse_offset(offset))
        return ResolvedTime(in_utc(aware), TZ_PAYLOAD)
    return resolve_event_time(local, city=city, state=state, country=country)
