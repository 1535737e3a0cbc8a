"""Map CloudEvents JSON webhooks from ERP, WMS and TMS connections to events.

The ERP and WMS already send canonical ``data``; the TMS sends milestones in
its own status vocabulary (``status_code``), which is mapped through the
code-mapping table of its connection. Numbers are read as ``Decimal`` and
kept as strings, so no float ever reaches a quantity or an amount.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from integrations.events import Event, EventType, ParseResult, Problem
from integrations.mappings import CodeLookup

_REQUIRED = ("id", "type", "subject", "time", "data")
# No canonical payload nests more than a few levels; a limit well above that
# keeps copying and storing the data clear of Python's recursion limit.
_MAX_DEPTH = 64
_MILESTONE_TYPES = {
    EventType.SHIPMENT_MILESTONE,
    EventType.SHIPMENT_DELIVERED,
    EventType.SHIPMENT_EXCEPTION,
}


def parse_webhook(
    body: bytes, *, connection_code: str, lookup: CodeLookup
) -> ParseResult:
    """Turn one CloudEvent (or a JSON array of them) into canonical events."""
    result = ParseResult()
    try:
        document = json.loads(
            body, parse_float=Decimal, parse_constant=_refuse_constant
        )
    except (ValueError, RecursionError) as exc:
        # Besides decode errors, ValueError covers an integer too long to
        # convert; nesting deeper than the parser can follow is a
        # RecursionError. All are the sender's data, never an outage.
        result.problems.append(Problem("invalid_message", f"body is not JSON: {exc}"))
        return result
    if _deeper_than(document, _MAX_DEPTH):
        result.problems.append(
            Problem("invalid_message", f"body nests deeper than {_MAX_DEPTH} levels")
        )
        return result
    if _holds_nul(document):
        result.problems.append(
            Problem("invalid_message", "body holds a NUL character (\\u0000)")
        )
        return result

    envelopes = document if isinstance(document, list) else [document]
    for index, envelope in enumerate(envelopes):
        try:
            result.events.append(
                _event_from_envelope(
                    envelope, connection_code=connection_code, lookup=lookup
                )
            )
        except _Unusable as exc:
            prefix = f"event {index}: " if len(envelopes) > 1 else ""
            result.problems.append(Problem(exc.code, prefix + exc.reason))
    return result


class _Unusable(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _event_from_envelope(
    envelope: Any, *, connection_code: str, lookup: CodeLookup
) -> Event:
    if not isinstance(envelope, dict):
        raise _Unusable("invalid_message", "an event must be a JSON object")
    missing = [name for name in _REQUIRED if envelope.get(name) in (None, "")]
    if missing:
        raise _Unusable(
            "invalid_message", "missing CloudEvents attribute(s): " + ", ".join(missing)
        )
    if not isinstance(envelope["data"], dict):
        raise _Unusable("invalid_message", "data must be a JSON object")

    data = _plain(envelope["data"])
    if envelope["type"] in _MILESTONE_TYPES:
        data = _canonical_milestone(
            data, connection_code=connection_code, lookup=lookup
        )

    return Event(
        id=str(envelope["id"]),
        source=_scoped_source(str(envelope.get("source") or ""), connection_code),
        type=str(envelope["type"]),
        subject=str(envelope["subject"]),
        time=_aware(str(envelope["time"]), "time"),
        data=data,
        correlationid=str(envelope.get("correlationid") or ""),
    )


def _scoped_source(source: str, connection_code: str) -> str:
    """Prefix the source with its connection so no sender claims another's ids."""
    if source == connection_code or source.startswith(connection_code + "/"):
        return source
    return f"{connection_code}/{source}" if source else connection_code


def _canonical_milestone(
    data: dict[str, Any], *, connection_code: str, lookup: CodeLookup
) -> dict[str, Any]:
    code = str(data.get("status_code") or "").strip()
    if not code:
        raise _Unusable("invalid_message", "milestone without status_code")
    status = lookup("shipment_status", connection_code, code)
    if status is None:
        raise _Unusable(
            "unmapped_code", f"unmapped {connection_code.upper()} status code {code}"
        )
    occurred_at = _aware(str(data.get("occurred_at") or ""), "occurred_at")
    reason = str(data.get("reason_code") or "")
    canonical_reason = (
        lookup("exception_reason", connection_code, reason) if reason else ""
    )
    milestone = {
        "shipment_number": data.get("shipment_number", ""),
        "tracking_number": data.get("tracking_number", ""),
        "status": status,
        "external_code": code,
        "description": data.get("description", ""),
        "kind": data.get("kind", "actual"),
        "occurred_at": occurred_at.astimezone(dt.UTC).isoformat(),
        "tz_source": "payload",
        "city": data.get("city", ""),
        "state": data.get("state", ""),
        "country": data.get("country", ""),
        "reason_code": canonical_reason or reason,
    }
    for optional in ("eta", "eta_date", "signed_by", "pod"):
        if data.get(optional):
            milestone[optional] = data[optional]
    return milestone


def _aware(value: str, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise _Unusable(
            "invalid_value", f"{name} {value!r} is not a timestamp"
        ) from exc
    if moment.tzinfo is None:
        raise _Unusable("invalid_value", f"{name} {value!r} has no UTC offset")
    try:
        moment.astimezone(dt.UTC)
    except OverflowError as exc:
        # 9999-12-31T23:00-05:00 is a valid ISO string with no UTC instant.
        raise _Unusable(
            "invalid_value", f"{name} {value!r} is out of range in UTC"
        ) from exc
    return moment


def _refuse_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which Python reads but JSON (and jsonb) do not know."""
    raise ValueError(f"{name} is not a JSON value")


def _holds_nul(value: Any) -> bool:
    """Return whether any key or text in JSON data holds U+0000, which jsonb refuses."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _deeper_than(value: Any, limit: int) -> bool:
    """Return whether JSON data nests more than ``limit`` levels, without recursing."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)
    return False


def _plain(value: Any) -> Any:
    """Return JSON data with every Decimal as its exact string."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
