"""Map USPS ``TrackResponse`` XML to canonical events.

Each ``TrackInfo`` is one tracking number; its ``TrackSummary`` (the latest
scan) and ``TrackDetail`` elements are scans with ``EventCode``, ``Event``,
``EventDate`` (``April 28, 2015``), ``EventTime`` (``9:01 am``) and a place.
USPS sends local time without a zone, so the place decides the offset. A
``TrackInfo`` holding an ``Error`` (not found, duplicate) is a problem in
USPS's words; the other numbers of a batch are still applied.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

from integrations.connectors.carrier.scans import Scan, Unusable, map_scans
from integrations.connectors.carrier.xml import child, child_text, children, parse_xml
from integrations.events import ParseResult
from integrations.timezones import resolve_event_time

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
_DATE = re.compile(r"([A-Za-z]+)\s+(\d{1,2}),\s*(\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})\s*([ap])\.?m\.?", re.IGNORECASE)


def parse_tracking(
    body: bytes, *, source: str, carrier_scac: str, lookup: CodeLookup
) -> ParseResult:
    """Turn a USPS TrackResponse into canonical shipment events."""
    result = ParseResult()
    try:
        root = parse_xml(body, carrier="USPS")
        infos = _track_infos(root)
    except Unusable as exc:
        result.problems.append(exc.problem)
        return result

    for info in infos:
        number = info.get("ID", "").strip()
        map_scans(
            result,
            _scans(info, number),
            tracking_number=number,
            source=source,
            carrier_scac=carrier_scac or "USPS",
            lookup=lookup,
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
