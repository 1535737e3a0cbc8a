"""The pieces every carrier mapping shares: a scan, its event and its problems.

A carrier mapping reads its own body shape into ``Scan`` objects, one per
tracking event, and hands them to ``event_from_scan``, which maps the code
through the connection's code table and builds the canonical event. A scan
that cannot be read raises ``Unusable`` with a stable problem code; the
caller records it and goes on with the next scan (B05).

A carrier's estimated delivery is read once per tracking number into an
``Estimate`` and put on every event of that tracking number as ``eta`` (an
instant) or ``eta_date`` (a day), unless the tracking number is delivered.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from typing import TYPE_CHECKING, Any

from integrations.events import Event, EventType, ParseResult, Problem
from integrations.timezones import (
    TZ_ASSUMED,
    ResolvedTime,
    TimestampError,
    country_code_for,
    parse_timestamp,
    resolve_event_time,
)

if TYPE_CHECKING:
    from integrations.mappings import CodeLookup

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TYPE_BY_STATUS = {
    "delivered": EventType.SHIPMENT_DELIVERED,
    "exception": EventType.SHIPMENT_EXCEPTION,
}


def in_utc(moment: dt.datetime) -> dt.datetime:
    """Return an aware time in UTC; a time UTC cannot hold is an unusable scan.

    ``9999-12-31T23:00-05:00`` is past the last representable UTC instant;
    converting it raises OverflowError, which must sink that scan only (B05).
    """
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError as exc:
        raise Unusable(
            "invalid_value", f"time {moment.isoformat()} is out of range in UTC"
        ) from exc


class Unusable(Exception):
    """A scan or body that cannot become an event, with its problem code."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason

    @property
    def problem(self) -> Problem:
        """Return the problem customer service sees."""
        return Problem(self.code, self.reason)


@dataclasses.dataclass(frozen=True)
class Scan:
    """One carrier scan, read out of its shape but not yet mapped."""

    carrier_id: str
    code: str
    description: str
    moment: ResolvedTime
    city: str
    state: str
    country: str
    reason: str = ""
    signed_by: str = ""


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A carrier's estimated delivery: an instant, or a day when no time is known."""

    eta: dt.datetime | None = None
    eta_date: dt.date | None = None

    def data(self) -> dict[str, str]:
        """Return the canonical ``eta`` or ``eta_date`` key of this estimate."""
        if self.eta is not None:
            return {"eta": self.eta.isoformat()}
        if self.eta_date is not None:
            return {"eta_date": self.eta_date.isoformat()}
        return {}


def estimate_at(
    value: Any, *, city: str = "", state: str = "", country: str = ""
) -> Estimate | None:
    """Read an estimated delivery time; None when it is missing or unreadable.

    A time with an offset keeps it; a bare time is read in the zone of the
    place given (the destination). When that place names no zone, only the
    date is kept: reading the time as UTC could move the estimate to
    another day. A date alone (``YYYY-MM-DD``) stays a date.
    """
    if isinstance(value, str) and _DATE_ONLY.fullmatch(value.strip()):
        return estimate_on(value)
    try:
        moment = value if isinstance(value, dt.datetime) else parse_timestamp(value)[0]
        resolved = resolve_event_time(moment, city=city, state=state, country=country)
    except TimestampError:
        return None

    if moment.tzinfo is not None:
        return Estimate(eta=moment)
    if resolved.tz_source == TZ_ASSUMED:
        return Estimate(eta_date=moment.date())
    return Estimate(eta=resolved.utc)


def estimate_on(value: Any) -> Estimate | None:
    """Read an estimated delivery date (``YYYY-MM-DD``); None when unreadable."""
    try:
        return Estimate(eta_date=dt.date.fromisoformat(str(value).strip()))
    except ValueError:
        return None


def add_problem(result: ParseResult, problem: Problem) -> None:
    """Record a problem once: one renamed code across a history is one fix."""
    if problem not in result.problems:
        result.problems.append(problem)


def event_from_scan(
    scan: Scan,
    *,
    tracking_number: str,
    source: str,
    carrier_scac: str,
    lookup: CodeLookup,
) -> Event:
    """Map a scan's code and build its canonical event.

    An unmapped code raises ``Unusable``: it is never read as a default
    status (B01).
    """
    status = lookup("shipment_status", source, scan.code)
    if status is None:
        carrier = carrier_scac or source
        raise Unusable(
            "unmapped_code", f"unmapped carrier code {scan.code} (carrier {carrier})"
        )
    # A reason belongs to an exception; carriers also stamp routine scans
    # with remarks (FedEx "left at front door"), which are not reasons.
    reason = scan.reason if status == "exception" else ""
    if reason:
        # An unmapped reason is kept as sent: the status is what must not guess.
        reason = lookup("exception_reason", source, reason) or reason

    occurred_at = scan.moment.utc
    data = {
        "tracking_number": tracking_number,
        "status": status,
        "external_code": scan.code,
        "description": scan.description,
        "kind": "actual",
        "occurred_at": occurred_at.isoformat(),
        "tz_source": scan.moment.tz_source,
        "city": scan.city,
        "state": scan.state,
        "country": country_code_for(scan.country) or scan.country,
        "reason_code": reason,
    }
    if scan.signed_by and status == "delivered":
        data["signed_by"] = scan.signed_by

    return Event(
        id=event_id(scan, tracking_number=tracking_number, source=source),
        source=source,
        type=_TYPE_BY_STATUS.get(status, EventType.SHIPMENT_MILESTONE),
        subject=tracking_number,
        time=occurred_at,
        data=data,
    )


def event_id(scan: Scan, *, tracking_number: str, source: str) -> str:
    """Return the carrier's event id, or a key that is stable across re-sends.

    Carriers re-send their whole history on every push and poll (B02), so an
    id-less scan is keyed on what identifies it: source, tracking number,
    code, UTC instant and location. The location is case-folded because
    carriers are not consistent about capitals between polls.
    """
    if scan.carrier_id:
        return f"{tracking_number}:{scan.carrier_id}"
    parts = [
        source,
        tracking_number,
        scan.code.upper(),
        scan.moment.utc.isoformat(),
        scan.city.upper(),
        scan.state.upper(),
        (country_code_for(scan.country) or scan.country).upper(),
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    return f"{tracking_number}:sha256-{digest[:32]}"


def map_scans(
    result: ParseResult,
    scans: list[Scan | Unusable],
    *,
    tracking_number: str,
    source: str,
    carrier_scac: str,
    lookup: CodeLookup,
    estimate: Estimate | None = None,
) -> None:
    """Add an event or a problem to ``result`` for each read scan.

    ``estimate`` is the carrier's estimated delivery for this tracking
    number; it goes on each of its events unless one of them is a delivery.
    """
    events = []
    for scan in scans:
        if isinstance(scan, Unusable):
            add_problem(result, scan.problem)
            continue
        try:
            event = event_from_scan(
                scan,
                tracking_number=tracking_number,
                source=source,
                carrier_scac=carrier_scac,
                lookup=lookup,
            )
        except Unusable as exc:
            add_problem(result, exc.problem)
        else:
            events.append(event)

    result.events.extend(_with_estimate(events, estimate))


def _with_estimate(events: list[Event], estimate: Estimate | None) -> list[Event]:
    """Put an estimate on one tracking number's events, unless it is delivered.

    Carriers keep sending the estimate they made before delivery (USPS,
    Canada Post, DHL); once delivered, that estimate is history and must
    not become a new revision of the shipment's ETA.
    """
    delivered = any(event.type == EventType.SHIPMENT_DELIVERED for event in events)
    if estimate is None or delivered or not estimate.data():
        return events
    return [
        dataclasses.replace(event, data={**event.data, **estimate.data()})
        for event in events
    ]


def text(value: Any) -> str:
    """Return a scalar as stripped text with single spaces; others become ''."""
    if value is None or isinstance(value, dict | list):
        return ""
    return " ".join(str(value).split())
