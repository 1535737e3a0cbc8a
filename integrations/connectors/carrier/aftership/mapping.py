"""Map AfterShip trackings to canonical events.

AfterShip normalises the carriers it follows into ``checkpoints`` with a
``tag`` from its short list (``InfoReceived``, ``InTransit``,
``OutForDelivery``, ``AttemptFail``, ``AvailableForPickup``,
``Delivered``, ``Exception``); the tag is the code mapped here. Three
bodies are read: an API response (``{"meta", "data": {"trackings": [...]}}``
or ``{"data": {"tracking": ...}}``) and a webhook (``{"msg": tracking}``).
An API error envelope (``meta.code`` other than 2xx) is reported in
AfterShip's words. A tracking without checkpoints has nothing to apply.

The estimated delivery is ``expected_delivery``: a date, a local time
(read in the destination country) or a time with an offset.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from integrations.connectors.carrier.scans import (
    Scan,
    Unusable,
    estimate_at,
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
    """Turn an AfterShip response or webhook into canonical events."""
    result = ParseResult()
    try:
        trackings = _trackings(body)
    except Unusable as exc:
        result.problems.append(exc.problem)
        return result

    for tracking in trackings:
        number = text(tracking.get("tracking_number"))
        checkpoints = tracking.get("checkpoints")
        checkpoints = checkpoints if isinstance(checkpoints, list) else []
        slug = text(tracking.get("slug"))
        map_scans(
            result,
            [
                _scan(item, f"{number} checkpoint {index}")
                for index, item in enumerate(checkpoints)
            ],
            tracking_number=number,
            source=source,
            carrier_scac=f"{slug} via AfterShip" if slug else "AfterShip",
            lookup=lookup,
            estimate=estimate_at(
                tracking.get("expected_delivery"),
                country=text(tracking.get("destination_country_iso3"))
                or text(tracking.get("courier_destination_country_iso3")),
            ),
        )

    return result


def _trackings(body: bytes) -> list[dict[str, Any]]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # decode, size or depth
        raise Unusable("invalid_message", f"AfterShip body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise Unusable("invalid_message", "AfterShip body must be a JSON object")
    meta = document.get("meta") if isinstance(document.get("meta"), dict) else {}
    code = meta.get("code")
    if isinstance(code, int) and not 200 <= code < 300:
        raise Unusable(
            "invalid_message",
            f"AfterShip answered {code} ({text(meta.get('type'))}): "
            f"{text(meta.get('message'))}",
        )

    data = document.get("data") if isinstance(document.get("data"), dict) else {}
    found = data.get("trackings") or [data.get("tracking") or document.get("msg")]
    trackings = [item for item in found if isinstance(item, dict)]
    if not trackings or not all(text(t.get("tracking_number")) for t in trackings):
        raise Unusable("invalid_message", "AfterShip body holds no tracking number")
    return trackings


def _scan(item: Any, label: str) -> Scan | Unusable:
    if not isinstance(item, dict):
        return Unusable("invalid_value", f"{label}: not a JSON object")
    code = text(item.get("tag"))
    if not code:
        return Unusable("invalid_value", f"{label}: tag is missing")
    city, state = text(item.get("city")), text(item.get("state"))
    country = text(item.get("country_iso3")) or text(item.get("country_name"))
    value = item.get("checkpoint_time")
    try:
        moment = resolve_event_time(
            value if isinstance(value, str) else "",
            city=city,
            state=state,
            country=country,
        )
    except TimestampError:
        return Unusable(
            "invalid_value", f"{label}: checkpoint_time {value!r} is not a timestamp"
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
