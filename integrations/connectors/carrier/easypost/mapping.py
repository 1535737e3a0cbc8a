"""Map EasyPost Tracker objects and ``tracker.*`` webhook events to events.

EasyPost normalises every carrier it aggregates: a Tracker carries
``tracking_code``, ``carrier`` and ``tracking_details``, each with a
``status`` from EasyPost's own short list (``pre_transit``, ``in_transit``,
``out_for_delivery``, ``delivered``, ...), a ``message``, an ISO
``datetime`` and a ``tracking_location``. That ``status`` is the code
mapped here. A webhook body is an Event whose ``result`` is the Tracker; an
Event without a result carries nothing to apply and is reported.

The estimated delivery is the carrier's local one when EasyPost has it
(``carrier_detail.est_delivery_date_local``, with
``est_delivery_time_local`` read at the destination), else
``est_delivery_date``. The local date comes first because EasyPost
writes a date-only estimate as midnight UTC, which is the evening before
in the Americas.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from integrations.connectors.carrier.scans import (
    Estimate,
    Scan,
    Unusable,
    estimate_at,
    estimate_on,
    map_scans,
    text,
)
from integrations.events import ParseResult
from integrations.timezones import TimestampError, resolve_event_time

if TYPE_CHECKING:
    from integrations.mappings import CodeLookup


def parse_tracking(
    body: bytes, *, source: str, carrier_scac: str, lookup: CodeLookup
) -> ParseResult:
    """Turn an EasyPost Tracker or tracker webhook Event into events."""
    result = ParseResult()
    try:
        tracker = _tracker(body)
        number = text(tracker.get("tracking_code"))
        if not number:
            raise Unusable("invalid_message", "EasyPost tracker has no tracking_code")
        details = tracker.get("tracking_details")
        if not isinstance(details, list):
            raise Unusable(
                "invalid_message", "EasyPost tracking_details must be a JSON array"
            )
    except Unusable as exc:
        result.problems.append(exc.problem)
        return result

    carrier = text(tracker.get("carrier"))
    map_scans(
        result,
        [_scan(item, f"{number} event {index}") for index, item in enumerate(details)],
        tracking_number=number,
        source=source,
        carrier_scac=f"{carrier} via EasyPost" if carrier else "EasyPost",
        lookup=lookup,
        estimate=_estimate(tracker),
    )

    return result


def _tracker(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # decode, size or depth
        raise Unusable("invalid_message", f"EasyPost body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise Unusable("invalid_message", "EasyPost body must be a JSON object")
    if document.get("object") != "Event":
        return document

    result = document.get("result")
    if not isinstance(result, dict) or result.get("object") != "Tracker":
        kind = text(document.get("description")) or "event"
        raise Unusable(
            "invalid_message",
            f"EasyPost {kind} event {text(document.get('id'))} carries no tracker",
        )
    return result


def _estimate(tracker: dict[str, Any]) -> Estimate | None:
    """Return the carrier's local estimate, else EasyPost's own."""
    detail = tracker.get("carrier_detail")
    detail = detail if isinstance(detail, dict) else {}
    local_date = text(detail.get("est_delivery_date_local"))
    local_time = text(detail.get("est_delivery_time_local"))
    if local_date and local_time:
        place = detail.get("destination_tracking_location")
        place = place if isinstance(place, dict) else {}
        return estimate_at(
            f"{local_date}T{local_time}",
            city=text(place.get("city")),
            state=text(place.get("state")),
            country=text(place.get("country")),
        ) or estimate_on(local_date)
    if local_date:
        return estimate_on(local_date)

    return estimate_at(tracker.get("est_delivery_date"))


def _scan(item: Any, label: str) -> Scan | Unusable:
    if not isinstance(item, dict):
        return Unusable("invalid_value", f"{label}: not a JSON object")
    code = text(item.get("status"))
    if not code:
        return Unusable("invalid_value", f"{label}: status is missing")
    place = item.get("tracking_location")
    place = place if isinstance(place, dict) else {}
    city, state, country = (
        text(place.get(key)) for key in ("city", "state", "country")
    )
    value = item.get("datetime")
    try:
        moment = resolve_event_time(
            value if isinstance(value, str) else "",
            city=city,
            state=state,
            country=country,
        )
    except TimestampError:
        return Unusable(
            "invalid_value", f"{label}: datetime {value!r} is not a timestamp"
        )

    return Scan(
        carrier_id="",
        code=code,
        description=text(item.get("message")),
        moment=moment,
        city=city,
        state=state,
        country=country,
    )
