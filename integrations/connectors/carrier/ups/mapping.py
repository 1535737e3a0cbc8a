"""Map UPS Track API responses (``trackResponse``) to canonical events.

UPS sends each activity's local ``date`` (``YYYYMMDD``) and ``time``
(``HHMMSS``) without a zone, and sometimes ``gmtDate``/``gmtTime`` (UTC)
with ``gmtOffset``. The code is the activity's ``status.type``, UPS's
documented coarse class of a scan (``M`` label, ``P`` pickup, ``I`` in
transit, ``D`` delivered, ``X`` exception); its ``status.code`` is a
detailed scan code from an open list of hundreds and is used only when the
type is missing.

The estimated delivery is the package's ``deliveryDate`` of type ``RDD``
(rescheduled) or else ``SDD`` (scheduled); ``DEL`` is the day it was
delivered. Only the date is kept: UPS's ``deliveryTime`` is local to the
consignee, whose place a package does not reliably name.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from integrations.connectors.carrier.scans import (
    Estimate,
    Scan,
    Unusable,
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
    """Turn a UPS ``trackResponse`` body into canonical shipment events."""
    result = ParseResult()
    try:
        document = json.loads(body)
        if not isinstance(document, dict) or "trackResponse" not in document:
            raise Unusable("invalid_message", "UPS body has no trackResponse")
        batches = track_response_batches(document["trackResponse"])
    except (ValueError, RecursionError) as exc:  # decode, size or depth
        result.problems.append(
            Unusable("invalid_message", f"body is not JSON: {exc}").problem
        )
        return result
    except Unusable as exc:
        result.problems.append(exc.problem)
        return result

    for tracking_number, activities, estimate in batches:
        prefix = f"{tracking_number} " if len(batches) > 1 else ""
        map_scans(
            result,
            [
                _read_or_problem(item, f"{prefix}event {index}")
                for index, item in enumerate(activities)
            ],
            tracking_number=tracking_number,
            source=source,
            carrier_scac=carrier_scac,
            lookup=lookup,
            estimate=estimate,
        )

    return result


def _read_or_problem(item: Any, label: str) -> Scan | Unusable:
    try:
        return read_activity(item, label)
    except Unusable as exc:
        return exc


def track_response_batches(
    response: Any,
) -> list[tuple[str, list[Any], Estimate | None]]:
    """Return (tracking number, activities, estimate) for every package."""
    shipments = response.get("shipment") if isinstance(response, dict) else None
    batches = []
    for shipment in _array(shipments, "trackResponse.shipment"):
        packages = shipment.get("package") if isinstance(shipment, dict) else None
        for package in _array(packages, "shipment.package"):
            if not isinstance(package, dict):
                raise Unusable("invalid_message", "a package must be a JSON object")
            tracking_number = text(package.get("trackingNumber"))
            if not tracking_number:
                raise Unusable("invalid_message", "trackingNumber is missing")
            activities = _array(package.get("activity") or [], "package.activity")
            batches.append((tracking_number, activities, _estimate(package)))

    return batches


# UPS deliveryDate types that are estimates, the most recent first.
_ESTIMATE_TYPES = ("RDD", "SDD")


def _estimate(package: dict[str, Any]) -> Estimate | None:
    """Return the rescheduled, else the scheduled, delivery date."""
    dates = package.get("deliveryDate")
    by_type = {
        text(item.get("type")): text(item.get("date"))
        for item in (dates if isinstance(dates, list) else [])
        if isinstance(item, dict)
    }
    for kind in _ESTIMATE_TYPES:
        day = by_type.get(kind, "")
        if not (len(day) == 8 and day.isdigit()):
            continue
        try:
            # YYYYMMDD is ISO 8601's basic form, which fromisoformat reads.
            return Estimate(eta_date=dt.date.fromisoformat(day))
        except ValueError:
            continue
    return None


def _array(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise Unusable("invalid_message", f"{name} must be a JSON array")
    return value


def read_activity(item: Any, label: str) -> Scan:
    """Read one UPS-style activity.

    The status ``type`` (UPS's documented coarse class) is the code when
    present; otherwise ``status.code``.
    """
    if not isinstance(item, dict):
        raise Unusable("invalid_value", f"{label}: not a JSON object")
    status = item.get("status") if isinstance(item.get("status"), dict) else {}
    code = text(status.get("type")) or text(status.get("code"))
    if not code:
        raise Unusable("invalid_value", f"{label}: status code is missing")
    city, state, country = _activity_location(item.get("location"))

    return Scan(
        carrier_id=text(item.get("id")),
        code=code,
        description=text(status.get("description")),
        moment=_activity_time(item, label, city=city, state=state, country=country),
        city=city,
        state=state,
        country=country,
    )


def _activity_location(location: Any) -> tuple[str, str, str]:
    if not isinstance(location, dict):
        return "", "", ""
    address = location.get("address")
    place = address if isinstance(address, dict) else location
    state = place.get("stateProvince") or place.get("state")
    country = place.get("countryCode") or place.get("country")

    return text(place.get("city")), text(state), text(country)


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
            raise Unusable(
                "invalid_value",
                f"{label}: gmtOffset {item['gmtOffset']!r} is not a UTC offset",
            ) from exc
        return ResolvedTime(in_utc(local.replace(tzinfo=offset)), TZ_PAYLOAD)

    return resolve_event_time(local, city=city, state=state, country=country)


def _date_time(item: dict[str, Any], label: str, date: str, time: str) -> dt.datetime:
    try:
        return parse_date_time(item.get(date), item.get(time))
    except TimestampError as exc:
        raw = f"{item.get(date)} {item.get(time)}"
        raise Unusable(
            "invalid_value", f"{label}: {date}/{time} {raw!r} is not a timestamp"
        ) from exc
