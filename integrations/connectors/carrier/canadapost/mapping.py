"""Map Canada Post ``tracking-detail`` XML to canonical events.

Each ``significant-events/occurrence`` is a scan: ``event-identifier`` (the
code), ``event-description`` (English or French, as requested), a local
``event-date`` and ``event-time`` with a zone abbreviation
(``event-time-zone``: ``EST``, ``PDT``, ...), and the site and province. A
``messages`` document instead of tracking is Canada Post's error answer and
becomes a problem with its code and words.

The estimated delivery is a date: ``changed-expected-date`` when Canada
Post has moved it (with ``changed-expected-delivery-reason``), else
``expected-delivery-date``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

from integrations.connectors.carrier.scans import (
    Estimate,
    Scan,
    Unusable,
    estimate_on,
    in_utc,
    map_scans,
)
from integrations.connectors.carrier.xml import (
    child,
    child_text,
    children,
    local,
    parse_xml,
)
from integrations.events import ParseResult
from integrations.timezones import (
    TZ_PAYLOAD,
    ResolvedTime,
    TimestampError,
    parse_date_time,
    resolve_event_time,
)

if TYPE_CHECKING:
    from integrations.mappings import CodeLookup

# The North American zone abbreviations Canada Post stamps its scans with.
# Each names a fixed offset, daylight or not, so no zone rules are needed.
_ZONE_OFFSETS = {
    "NST": dt.timedelta(hours=-3, minutes=-30),
    "NDT": dt.timedelta(hours=-2, minutes=-30),
    "AST": dt.timedelta(hours=-4),
    "ADT": dt.timedelta(hours=-3),
    "EST": dt.timedelta(hours=-5),
    "EDT": dt.timedelta(hours=-4),
    "CST": dt.timedelta(hours=-6),
    "CDT": dt.timedelta(hours=-5),
    "MST": dt.timedelta(hours=-7),
    "MDT": dt.timedelta(hours=-6),
    "PST": dt.timedelta(hours=-8),
    "PDT": dt.timedelta(hours=-7),
}


def parse_tracking(
    body: bytes, *, source: str, carrier_scac: str, lookup: CodeLookup
) -> ParseResult:
    """Turn a Canada Post tracking-detail document into canonical events."""
    result = ParseResult()
    try:
        root = parse_xml(body, carrier="Canada Post")
        pin, occurrences = _occurrences(root)
    except Unusable as exc:
        result.problems.append(exc.problem)
        return result

    map_scans(
        result,
        [
            _scan(occurrence, f"{pin} event {index}")
            for index, occurrence in enumerate(occurrences)
        ],
        tracking_number=pin,
        source=source,
        carrier_scac=carrier_scac or "Canada Post",
        lookup=lookup,
        estimate=_estimate(root),
    )

    return result


def _estimate(root: Element) -> Estimate | None:
    """Return the expected delivery date, the changed one first."""
    changed = child_text(root, "changed-expected-date")
    return estimate_on(changed or child_text(root, "expected-delivery-date"))


def _occurrences(root: Element) -> tuple[str, list[Element]]:
    if local(root) == "messages":
        message = child(root, "message")
        raise Unusable(
            "unknown_reference",
            f"Canada Post answered {child_text(message, 'code')}: "
            f"{child_text(message, 'description')}",
        )
    if local(root) != "tracking-detail":
        raise Unusable(
            "invalid_message", f"Canada Post sent {local(root)}, not tracking-detail"
        )
    pin = child_text(root, "pin")
    if not pin:
        raise Unusable("invalid_message", "Canada Post tracking-detail has no pin")

    return pin, list(children(child(root, "significant-events"), "occurrence"))


def _scan(occurrence: Element, label: str) -> Scan | Unusable:
    code = child_text(occurrence, "event-identifier")
    if not code:
        return Unusable("invalid_value", f"{label}: event-identifier is missing")
    city = child_text(occurrence, "event-site")
    state = child_text(occurrence, "event-province")
    try:
        moment = _moment(occurrence, city=city, state=state)
    except Unusable as exc:
        return Unusable(exc.code, f"{label}: {exc.reason}")

    return Scan(
        carrier_id="",
        code=code,
        description=child_text(occurrence, "event-description"),
        moment=moment,
        city=city,
        state=state,
        country="CA",
        signed_by=child_text(occurrence, "signatory-name"),
    )


def _moment(occurrence: Element, *, city: str, state: str) -> ResolvedTime:
    """Return the scan's instant: its zone abbreviation, else its province."""
    date_text = child_text(occurrence, "event-date")
    time_text = child_text(occurrence, "event-time")
    try:
        local_time = parse_date_time(date_text, time_text)
    except TimestampError as exc:
        raise Unusable(
            "invalid_value", f"event date/time {exc.value!r} is not a timestamp"
        ) from exc

    zone = child_text(occurrence, "event-time-zone").upper()
    if zone in _ZONE_OFFSETS:
        aware = local_time.replace(tzinfo=dt.timezone(_ZONE_OFFSETS[zone]))
        return ResolvedTime(in_utc(aware), TZ_PAYLOAD)
    return resolve_event_time(local_time, city=city, state=state, country="CA")
