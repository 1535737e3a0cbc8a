"""Map carrier tracking webhooks (generic JSON and UPS-style) to events.

Two body shapes are read:

- generic: ``{"tracking_number": ..., "events": [{"id"?, "code",
  "description"?, "occurred_at", "city"?, "state"?, "country"?,
  "reason"?}]}``;
- activities: ``{"tracking_number": ..., "activities": [...]}`` with UPS
  activity objects (``date``/``time`` local, optional ``gmtDate``/``gmtTime``
  in UTC and ``gmtOffset``, ``location``, ``status``), and UPS's own
  ``{"trackResponse": {"shipment": [{"package": [...]}]}}``.

Each scan becomes one event or one problem; a bad scan never sinks the rest
of the message (B05). Codes go through the connection's code mapping and an
unknown code is a problem, never a default status (B01).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from integrations.events import Event, EventType, ParseResult, Problem
from integrations.timezones import (
    TZ_PAYLOAD,
    ResolvedTime,
    TimestampError,
    country_code_for,
    parse_date_time,
    parse_offset,
    resolve_event_time,
)

if TYPE_CHECKING:
    from integrations.mappings import CodeLookup

_TYPE_BY_STATUS = {
    "delivered": EventType.SHIPMENT_DELIVERED,
    "exception": EventType.SHIPMENT_EXCEPTION,
}


class _Unusable(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class _Scan:
    """One carrier scan, read out of its shape but not yet mapped."""

    carrier_id: str
    code: str
    description: str
    moment: ResolvedTime
    city: str
    state: str
    country: str
    reason: str


_Reader = Callable[[Any, str], _Scan]


@dataclasses.dataclass(frozen=True)
class _Batch:
    """The scans of one tracking number and the reader for their shape."""

    tracking_number: str
    items: list[Any]
    reader: _Reader


def parse_carrier_webhook(
    body: bytes, *, source: str, carrier_scac: str, lookup: CodeLookup
) -> ParseResult:
    """Turn one carrier tracking webhook into canonical shipment events."""
    result = ParseResult()
    try:
        batches = _batches(body)
    except _Unusable as exc:
        result.problems.append(Problem(exc.code, exc.reason))
        return result

    for batch in batches:
        prefix = f"{batch.tracking_number} " if len(batches) > 1 else ""
        for index, item in enumerate(batch.items):
            try:
                scan = batch.reader(item, f"{prefix}event {index}")
                event = _event_from_scan(
                    scan,
                    tracking_number=batch.tracking_number,
                    source=source,
                    carrier_scac=carrier_scac,
                    lookup=lookup,
                )
            except _Unusable as exc:
                _add_problem(result, Problem(exc.code, exc.reason))
            else:
                result.events.append(event)

    return result


def _add_problem(result: ParseResult, problem: Problem) -> None:
    # One renamed code repeated across a history is one thing to fix.
    if problem not in result.problems:
        result.problems.append(problem)


def _batches(body: bytes) -> list[_Batch]:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Unusable("invalid_message", f"body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise _Unusable("invalid_message", "body must be a JSON object")
    if "trackResponse" in document:
        return _ups_batches(document["trackResponse"])

    tracking_number = _text(document.get("tracking_number"))
    if not tracking_number:
        raise _Unusable("invalid_message", "tracking_number is missing")
    if "events" in document:
        key, reader = "events", _read_generic
    elif "activities" in document:
        key, reader = "activities", _read_activity
    else:
        raise _Unusable("invalid_message", "body has neither events nor activities")

    return [_Batch(tracking_number, _array(document[key], key), reader)]


def _ups_batches(response: Any) -> list[_Batch]:
    shipments = response.get("shipment") if isinstance(response, dict) else None
    batches = []
    for shipment in _array(shipments, "trackResponse.shipment"):
        packages = shipment.get("package") if isinstance(shipment, dict) else None
        for package in _array(packages, "shipment.package"):
            if not isinstance(package, dict):
                raise _Unusable("invalid_message", "a package must be a JSON object")
            tracking_number = _text(package.get("trackingNumber"))
            if not tracking_number:
                raise _Unusable("invalid_message", "trackingNumber is missing")
            activities = _array(package.get("activity") or [], "package.activity")
            batches.append(_Batch(tracking_number, activities, _read_activity))

    return batches


def _array(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Unusable("invalid_message", f"{name} must be a JSON array")
    return value


def _read_generic(item: Any, label: str) -> _Scan:
    """Read one event of the generic shape."""
    if not isinstance(item, dict):
        raise _Unusable("invalid_value", f"{label}: not a JSON object")
    code = _text(item.get("code"))
    if not code:
        raise _Unusable("invalid_value", f"{label}: code is missing")
    city, state, country = (
        _text(item.get(key)) for key in ("city", "state", "country")
    )

    value = item.get("occurred_at")
    if not isinstance(value, str):
        raise _Unusable("invalid_value", f"{label}: occurred_at is missing")
    try:
        moment = resolve_event_time(value, city=city, state=state, country=country)
    except TimestampError as exc:
        raise _Unusable(
            "invalid_value", f"{label}: occurred_at {value!r} is not a timestamp"
        ) from exc

    return _Scan(
        carrier_id=_text(item.get("id")),
        code=code,
        description=_text(item.get("description")),
        moment=moment,
        city=city,
        state=state,
        country=country,
        reason=_text(item.get("reason")),
    )


def _read_activity(item: Any, label: str) -> _Scan:
    """Read one UPS-style activity.

    The status ``type`` (UPS's documented coarse class) is the code when
    present; otherwise ``status.code``.
    """
    if not isinstance(item, dict):
        raise _Unusable("invalid_value", f"{label}: not a JSON object")
    status = item.get("status") if isinstance(item.get("status"), dict) else {}
    code = _text(status.get("type")) or _text(status.get("code"))
    if not code:
        raise _Unusable("invalid_value", f"{label}: status code is missing")
    city, state, country = _activity_location(item.get("location"))

    return _Scan(
        carrier_id=_text(item.get("id")),
        code=code,
        description=_text(status.get("description")),
        moment=_activity_time(item, label, city=city, state=state, country=country),
        city=city,
        state=state,
        country=country,
        reason="",
    )


def _activity_location(location: Any) -> tuple[str, str, str]:
    if not isinstance(location, dict):
        return "", "", ""
    address = location.get("address")
    place = address if isinstance(address, dict) else location
    state = place.get("stateProvince") or place.get("state")
    country = place.get("countryCode") or place.get("country")

    return _text(place.get("city")), _text(state), _text(country)


def _activity_time(
    item: dict[str, Any], label: str, *, city: str, state: str, country: str
) -> ResolvedTime:
    """Return the activity's instant: GMT fields first, then local time.

    ``gmtDate``/``gmtTime`` are already UTC and win over everything (B06).
    A local time with ``gmtOffset`` is exact too; a bare local time is read
    in its location's zone.
    """
    if item.get("gmtDate") or item.get("gmtTime"):
        gmt = _date_time(item, label, "gmtDate", "gmtTime")
        return ResolvedTime(gmt.replace(tzinfo=dt.UTC), TZ_PAYLOAD)

    local = _date_time(item, label, "date", "time")
    if item.get("gmtOffset"):
        try:
            offset = parse_offset(str(item["gmtOffset"]))
        except TimestampError as exc:
            raise _Unusable(
                "invalid_value",
                f"{label}: gmtOffset {item['gmtOffset']!r} is not a UTC offset",
            ) from exc
        return ResolvedTime(local.replace(tzinfo=offset).astimezone(dt.UTC), TZ_PAYLOAD)

    return resolve_event_time(local, city=city, state=state, country=country)


def _date_time(item: dict[str, Any], label: str, date: str, time: str) -> dt.datetime:
    try:
        return parse_date_time(item.get(date), item.get(time))
    except TimestampError as exc:
        raw = f"{item.get(date)} {item.get(time)}"
        raise _Unusable(
            "invalid_value", f"{label}: {date}/{time} {raw!r} is not a timestamp"
        ) from exc


def _event_from_scan(
    scan: _Scan,
    *,
    tracking_number: str,
    source: str,
    carrier_scac: str,
    lookup: CodeLookup,
) -> Event:
    """Map a scan's code and build its canonical event."""
    status = lookup("shipment_status", source, scan.code)
    if status is None:
        raise _Unusable(
            "unmapped_code",
            f"unmapped carrier code {scan.code} (carrier {carrier_scac})",
        )
    reason = scan.reason
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
    return Event(
        id=_event_id(scan, tracking_number=tracking_number, source=source),
        source=source,
        type=_TYPE_BY_STATUS.get(status, EventType.SHIPMENT_MILESTONE),
        subject=tracking_number,
        time=occurred_at,
        data=data,
    )


def _event_id(scan: _Scan, *, tracking_number: str, source: str) -> str:
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


def _text(value: Any) -> str:
    """Return a JSON scalar as stripped text; objects and null become ''."""
    if value is None or isinstance(value, dict | list):
        return ""
    return " ".join(str(value).split())
