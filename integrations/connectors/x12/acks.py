"""997 functional acknowledgements, both ways.

Outbound. After an X12 file from a partner is parsed, every functional group
in it gets one 997 (``acknowledge_inbound``): AK1 names the group, an AK2
and AK5 each transaction set, AK3/AK4 the segment and element errors the
mapping reported, and AK9 the group's result and counts. The 997 goes to
the same connection through the outbox with the idempotency key
``x12.997:<connection>:<ISA06>:<ISA13>:<GS06>``, so processing a file again never
sends a second one. A group of 997s (functional id ``FA``) is never
acknowledged.

A 997 acknowledges syntax, not business: a set is rejected when its
envelope fails (AK5 2, 3 or 4), when the hub takes no such set (AK5 1), or
when the mapping reported an element error with its AK4 code (AK5 5 with
AK3 and AK4). An unknown order or an unmapped status code is the hub's
problem to solve, with a case, and the set is still acknowledged.
Mapping problems name their set by its label (``X12 210 ST 0001``), an
element error by ``segment L1 at position 7, element position 4`` (or just
``L104``, the segment then found by the quoted value) and ``AK4 <code>``.

The hub sends a 997 for every functional group an X12 connection delivers;
it expects 997s back only from partners with an acknowledgement window
(``Connection.ack_window_minutes`` above 0).

Inbound. ``map_997`` turns a partner's 997 into an ``x12.acknowledged``
event; ``ack_watch_close`` (its handler) closes the matching ``AckWatch`` by
connection and GS06: accepted, accepted with errors, or rejected, which
opens a ``rejected_ack`` case saying what the partner refused, in words. A
997 that arrives after the watch went overdue still closes it and resolves
the delayed-acknowledgement case.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from integrations.connectors.x12 import outbound
from integrations.edi.x12 import (
    FunctionalGroup,
    Interchange,
    TransactionSet,
    parse_interchanges,
)
from integrations.errors import EventRejected
from integrations.events import Event, EventType, ParseResult, Problem
from integrations.models import AckWatch, Connection, InboundMessage, OutboxMessage
from integrations.outbox import outbox_enqueue
from operations.monitors import delayed_ack_case_key
from operations.services import case_open, case_resolve

if TYPE_CHECKING:
    from integrations.connectors.x12.mapping import _Context

ACK_FUNCTIONAL_ID = "FA"
ACK_SETS = frozenset({"997", "999"})

# Element 715 (AK901) and 717 (AK501): the result of a group or a set.
RESULTS = {
    "A": "accepted",
    "E": "accepted, but errors were noted",
    "M": "rejected, message authentication code failed",
    "P": "partially accepted, at least one transaction set was rejected",
    "R": "rejected",
    "W": "rejected, assurance failed validity tests",
    "X": "rejected, content after decryption could not be analysed",
}
# Element 716 (AK904-AK908): why a group is in error.
GROUP_ERRORS = {
    "1": "functional group not supported",
    "2": "functional group version not supported",
    "3": "functional group trailer missing",
    "4": "group control number in the header and trailer do not agree",
    "5": "number of included transaction sets does not match the actual count",
    "6": "group control number violates syntax",
}
# Element 718 (AK502-AK506): why a transaction set is in error.
SET_ERRORS = {
    "1": "transaction set not supported",
    "2": "transaction set trailer missing",
    "3": "transaction set control number in the header and trailer do not match",
    "4": "number of included segments does not match the actual count",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "23": "transaction set control number not unique within the functional group",
}
# Element 720 (AK304): why a segment is in error.
SEGMENT_ERRORS = {
    "1": "unrecognized segment id",
    "2": "unexpected segment",
    "3": "mandatory segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
}
# Element 723 (AK403): why a data element is in error.
ELEMENT_ERRORS = {
    "1": "mandatory data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
}

_WATCH_STATE = {
    "A": AckWatch.State.ACCEPTED,
    "E": AckWatch.State.ACCEPTED_WITH_ERRORS,
    # A partly accepted group still lost a set, which someone must resend.
    "P": AckWatch.State.REJECTED,
    "R": AckWatch.State.REJECTED,
    "M": AckWatch.State.REJECTED,
    "W": AckWatch.State.REJECTED,
    "X": AckWatch.State.REJECTED,
}
_ENVELOPE_ERRORS = (
    ("no SE trailer", "2"),
    ("SE02 says", "3"),
    ("SE01 says", "4"),
)
_GROUP_WARNINGS = (
    ("no GE trailer", "3"),
    ("GE02 says", "4"),
    ("GE01 says", "5"),
)
_AK4 = re.compile(r"\bAK4\D{0,3}(\d{1,2})\b")
_ELEMENT_REFERENCE = re.compile(r"\b([A-Z][A-Z0-9]{1,2})(\d{2})\b")
_SEGMENT_AND_ELEMENT = re.compile(
    r"\bsegment\s+([A-Z][A-Z0-9]{1,2})\b.*?\belement\s+(?:position\s+)?(\d{1,2})\b",
    re.IGNORECASE,
)
_SEGMENT_POSITION = re.compile(
    r"\bsegment\s+[A-Z][A-Z0-9]{1,2}\s+at\s+position\s+(\d+)"
)
_QUOTED = re.compile(r"'([^']*)'")
_GE01_SAYS = re.compile(r"GE01 says (\d+)")


# --- Outbound: one 997 per inbound group --------------------------------------


def exchanges_997(connection: Connection) -> bool:
    """Return whether the hub sends 997s for what this connection receives.

    Every X12 partner gets one per functional group it sends; the
    acknowledgement window only decides whether the hub watches for theirs.
    """
    return connection.protocol == Connection.Protocol.X12_FILE


def acknowledge_inbound(
    *, message: InboundMessage, parsed: ParseResult
) -> list[OutboxMessage]:
    """Enqueue a 997 for every functional group of a parsed X12 file.

    Returns the outbox rows, including ones enqueued by an earlier run for
    the same groups. Groups of 997s and unreadable interchanges get none.
    """
    connection = message.connection
    if not exchanges_997(connection):
        return []

    rows = []
    with transaction.atomic():
        for interchange in parse_interchanges(bytes(message.body)):
            if interchange.delimiters is None:
                continue
            for group in interchange.groups:
                if not group.gs or group.functional_id == ACK_FUNCTIONAL_ID:
                    continue
                acknowledgement = group_acknowledgement(
                    interchange, group, problems=parsed.problems
                )
                rows.append(_enqueue(connection, interchange, group, acknowledgement))
    return rows


def group_acknowledgement(
    interchange: Interchange, group: FunctionalGroup, *, problems: list[Problem]
) -> dict[str, Any]:
    """Return the 997 content for one group: a result per set and the totals."""
    results = [
        _set_result(transaction_set, problems=problems)
        for transaction_set in group.transaction_sets
        if transaction_set.st01 not in ACK_SETS
    ]
    group_codes, included = _group_errors(interchange, group, received=len(results))
    accepted = sum(1 for result in results if result["status"] in ("A", "E"))

    return {
        "functional_id": group.functional_id,
        "group": group.control_number,
        "sets": results,
        "status": _group_status(results, accepted=accepted, codes=group_codes),
        "included": included,
        "received": len(results),
        "accepted": accepted,
        "codes": group_codes,
    }


def _set_result(
    transaction_set: TransactionSet, *, problems: list[Problem]
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "code": transaction_set.st01,
        "control": transaction_set.st02,
        "status": "A",
        "codes": [],
        "segments": [],
    }
    codes = _envelope_codes(transaction_set)
    if not codes and not _is_supported(transaction_set.st01):
        codes = ["1"]
    if not codes and _problems_of(transaction_set, problems):
        # The mapping refused the set for an element's syntax: name the
        # segment and element where the reason allows it.
        result["segments"] = _element_errors(transaction_set, problems=problems)
        codes = ["5"]
    if codes:
        result["status"], result["codes"] = "R", codes

    return result


def _envelope_codes(transaction_set: TransactionSet) -> list[str]:
    codes = []
    if not transaction_set.st01:
        codes.append("6")
    if not transaction_set.st02:
        codes.append("7")
    for error in transaction_set.errors:
        for marker, code in _ENVELOPE_ERRORS:
            if marker in error and code not in codes:
                codes.append(code)
    return codes


def _is_supported(code: str) -> bool:
    from integrations.connectors.x12.mapping import _MAPPERS

    return code in _MAPPERS


def _problems_of(transaction_set: TransactionSet, problems: list[Problem]) -> list:
    """Return the AK4-coded problems that name this set by its label."""
    label = transaction_set.label
    return [
        problem
        for problem in problems
        if label in problem.reason and _AK4.search(problem.reason)
    ]


def _element_errors(
    transaction_set: TransactionSet, *, problems: list[Problem]
) -> list[dict[str, Any]]:
    """Return AK3 entries (each with its AK4s) for the set's element errors."""
    by_segment: dict[tuple[str, int], dict[str, Any]] = {}
    for problem in _problems_of(transaction_set, problems):
        located = _locate(transaction_set, problem.reason)
        if located is None:
            continue
        tag, position, element = located
        entry = by_segment.setdefault(
            (tag, position),
            {"tag": tag, "position": position, "code": "8", "elements": []},
        )
        entry["elements"].append(element)
    return list(by_segment.values())


def _locate(
    transaction_set: TransactionSet, reason: str
) -> tuple[str, int, dict[str, Any]] | None:
    """Find the segment and element a problem names; None when it cannot."""
    code = _AK4.search(reason).group(1)  # type: ignore[union-attr]
    match = _SEGMENT_AND_ELEMENT.search(reason)
    if match is None:
        match = next(
            (
                found
                for found in _ELEMENT_REFERENCE.finditer(reason)
                if found.group(1) not in ("ST", "SE", "GS", "GE", "AK")
            ),
            None,
        )
    if match is None:
        return None
    tag, element = match.group(1).upper(), int(match.group(2))
    quoted = _QUOTED.search(reason)
    copy = quoted.group(1) if quoted else None

    stated = _SEGMENT_POSITION.search(reason)
    if stated is not None:
        position: int | None = int(stated.group(1))
    else:
        position = _segment_position(transaction_set, tag, element, copy)
    if position is None:
        return None
    return tag, position, {"position": str(element), "code": code, "copy": copy or ""}


def _segment_position(
    transaction_set: TransactionSet, tag: str, element: int, copy: str | None
) -> int | None:
    """Return the 1-based position (ST is 1) of the segment in error."""
    candidates = [
        index
        for index, segment in enumerate(transaction_set.segments, start=1)
        if segment[0] == tag
    ]
    for index in candidates:
        segment = transaction_set.segments[index - 1]
        if copy is not None and element < len(segment):
            if segment[element].strip() == copy:
                return index
    return candidates[0] if candidates else None


def _group_errors(
    interchange: Interchange, group: FunctionalGroup, *, received: int
) -> tuple[list[str], int]:
    """Return the AK9 error codes and the set count GE01 claimed."""
    prefix = f"GS {group.control_number}:"
    codes, included = [], received
    for warning in interchange.warnings:
        if not warning.startswith(prefix):
            continue
        for marker, code in _GROUP_WARNINGS:
            if marker in warning and code not in codes:
                codes.append(code)
        said = _GE01_SAYS.search(warning)
        if said:
            included = int(said.group(1))
    return codes, included


def _group_status(results: list[dict], *, accepted: int, codes: list[str]) -> str:
    if results and accepted == 0:
        return "R"
    if accepted < len(results):
        return "P"
    if codes or any(result["status"] == "E" for result in results):
        return "E"
    return "A"


def _enqueue(
    connection: Connection,
    interchange: Interchange,
    group: FunctionalGroup,
    acknowledgement: dict[str, Any],
) -> OutboxMessage:
    """Enqueue one 997, taking its control numbers only when it is new."""
    # Control numbers are unique per sender only, so the sender is in the key.
    key = (
        f"{outbound.ACK_TYPE}:{connection.code}:{interchange.sender[:15]}:"
        f"{interchange.control_number[:40]}:{group.control_number[:40]}"
    )
    existing = OutboxMessage.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing

    # The numbers travel in the payload, so a retried 997 is the same file.
    envelope = outbound.control_numbers_next(connection=connection)
    payload = {
        **acknowledgement,
        "envelope": {
            "interchange": envelope.interchange,
            "group": envelope.group,
            "transaction": envelope.transactions[0],
            "created_at": envelope.created_at.isoformat(),
        },
        "sender": {"qualifier": _isa(interchange, 5), "id": _isa(interchange, 6)},
        "receiver": {"qualifier": _isa(interchange, 7), "id": _isa(interchange, 8)},
    }
    return outbox_enqueue(
        destination_code=connection.code,
        type=outbound.ACK_TYPE,
        subject=f"997 for GS {group.control_number}"[:100],
        payload=payload,
        idempotency_key=key,
    )


def _isa(interchange: Interchange, position: int) -> str:
    if position < len(interchange.isa):
        return interchange.isa[position].strip()
    return ""


# --- Inbound: a partner's 997 --------------------------------------------------


@dataclasses.dataclass
class _AckReader:
    """Collect a 997's AK2 sets with their AK3/AK4 errors and AK5 results."""

    sets: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    ak1: list[str] | None = None
    ak9: list[str] | None = None

    def add(self, elements: list[str]) -> None:
        tag = elements[0]
        current = self.sets[-1] if self.sets else None
        if tag == "AK1":
            self.ak1 = elements
        elif tag == "AK2":
            self.sets.append(
                {
                    "code": _value(elements, 1),
                    "control": _value(elements, 2),
                    "status": "",
                    "codes": [],
                    "segments": [],
                }
            )
        elif tag == "AK3" and current is not None:
            current["segments"].append(
                {
                    "tag": _value(elements, 1),
                    "position": _value(elements, 2),
                    "code": _value(elements, 4),
                    "elements": [],
                }
            )
        elif tag == "AK4" and current is not None and current["segments"]:
            current["segments"][-1]["elements"].append(
                {
                    "position": _value(elements, 1),
                    "code": _value(elements, 3),
                    "copy": _value(elements, 4),
                }
            )
        elif tag == "AK5" and current is not None:
            current["status"] = _value(elements, 1).upper()
            current["codes"] = _values(elements, 2, 6)
        elif tag == "AK9":
            self.ak9 = elements


def map_997(context: _Context, result: ParseResult) -> None:
    """Map a partner's 997 to one ``x12.acknowledged`` event."""
    reader = _AckReader()
    for elements in context.transaction.segments:
        reader.add(elements)
    group = _control(_value(reader.ak1, 2))
    status = _value(reader.ak9, 1).upper()
    if not group:
        result.problems.append(
            Problem("invalid_value", f"{context.label}: AK1 names no group (AK102)")
        )
        return
    if status not in RESULTS:
        result.problems.append(
            Problem(
                "invalid_value",
                f"{context.label}: AK901 {status or '(missing)'} is not a result code",
            )
        )
        return

    data = {
        "functional_id": _value(reader.ak1, 1),
        "group": group,
        "status": status,
        "included": _value(reader.ak9, 2),
        "received": _value(reader.ak9, 3),
        "accepted": _value(reader.ak9, 4),
        "codes": _values(reader.ak9, 5, 9),
        "sets": reader.sets,
        "interchange": context.interchange.control_number,
    }
    result.events.append(
        Event(
            id=context.key,
            source=context.source,
            type=EventType.X12_ACKNOWLEDGED,
            subject=f"GS {group}",
            time=_sent_at(context),
            data=data,
        )
    )


def _sent_at(context: _Context) -> dt.datetime:
    """Return when the 997 was made (GS04/GS05, else ISA09/ISA10), read as UTC."""
    gs, isa = context.group.gs, context.interchange.isa
    candidates = [
        (_value(gs, 4), _value(gs, 5)[:4]),
        ("20" + _value(isa, 9), _value(isa, 10)[:4]),
    ]
    for day, clock in candidates:
        try:
            moment = dt.datetime.strptime(day + clock.ljust(4, "0"), "%Y%m%d%H%M")
        except ValueError:
            continue
        return moment.replace(tzinfo=dt.UTC)
    return timezone.now()


def ack_watch_close(
    *, source: str, data: dict[str, Any], acknowledged_at: dt.datetime
) -> AckWatch:
    """Close the watch a partner's 997 answers, and open or resolve its cases.

    Expects to run inside the event's transaction; locks the watch.
    """
    group = _control(str(data.get("group") or ""))
    watch = (
        AckWatch.objects.select_for_update(of=("self",))
        .select_related("connection", "outbox_message")
        .filter(connection__code=source, group_control=group)
        .first()
    )
    if watch is None:
        raise EventRejected(
            "unknown_reference",
            f"997 acknowledges GS {group}, which the hub never sent to {source}",
        )
    state = _WATCH_STATE.get(str(data.get("status") or ""))
    if state is None:
        raise EventRejected(
            "invalid_value", f"AK901 {data.get('status')!r} is not a result code"
        )

    watch.state = state
    watch.acknowledged_at = acknowledged_at
    watch.detail = describe_acknowledgement(data)
    watch.save(update_fields=["state", "acknowledged_at", "detail"])

    case_resolve(dedupe_key=delayed_ack_case_key(watch.pk))
    if state == AckWatch.State.REJECTED:
        _open_rejected_case(watch, data=data)
    else:
        case_resolve(dedupe_key=_rejected_case_key(watch.pk))
    return watch


def _rejected_case_key(watch_id: int) -> str:
    return f"rejected_ack:{watch_id}"


def _open_rejected_case(watch: AckWatch, *, data: dict[str, Any]) -> None:
    from orders.models import Order

    message = watch.outbox_message
    what = f"{message.type} {message.subject}" if message else "a group"
    order = None
    if message is not None and message.correlation_id:
        order = Order.objects.filter(number=message.correlation_id).first()
    codes = " ".join([data["status"], *data.get("codes", [])])
    case_open(
        kind="rejected_ack",
        dedupe_key=_rejected_case_key(watch.pk),
        title=f"{watch.connection.code} rejected GS {watch.group_control} ({what}): "
        f"{RESULTS[data['status']]}",
        detail=watch.detail,
        reason_code=f"AK9 {codes}"[:40],
        outbox_message=message,
        order=order,
    )


def describe_acknowledgement(data: dict[str, Any]) -> str:
    """Return a 997's results in words, one line for the group and per set."""
    lines = [
        _described(
            f"AK9 {data['status']}",
            RESULTS.get(data["status"], "unknown result"),
            data.get("codes", []),
            GROUP_ERRORS,
        )
    ]
    for result in data.get("sets", []):
        status = result.get("status") or "?"
        line = _described(
            f"{result.get('code')} ST {result.get('control')}: AK5 {status}",
            RESULTS.get(status, "unknown result"),
            result.get("codes", []),
            SET_ERRORS,
        )
        details = [_segment_words(segment) for segment in result.get("segments", [])]
        lines.append("; ".join([line, *details]))
    return "\n".join(lines)


def _described(head: str, result: str, codes: list[str], table: dict[str, str]) -> str:
    words = [f"{code} {table.get(code, 'unknown code')}" for code in codes]
    return f"{head} ({result})" + (": " + ", ".join(words) if words else "")


def _segment_words(segment: dict[str, Any]) -> str:
    code = str(segment.get("code") or "")
    text = (
        f"segment {segment.get('tag')} at {segment.get('position')}: "
        f"{SEGMENT_ERRORS.get(code, 'error ' + code)}"
    )
    for element in segment.get("elements", []):
        element_code = str(element.get("code") or "")
        text += (
            f", element {element.get('position')} "
            f"{ELEMENT_ERRORS.get(element_code, 'error ' + element_code)}"
        )
        if element.get("copy"):
            text += f" ({element['copy']!r})"
    return text


def _value(elements: list[str] | None, position: int) -> str:
    if elements is None or position >= len(elements):
        return ""
    return elements[position].strip()


def _values(elements: list[str] | None, first: int, last: int) -> list[str]:
    found = [_value(elements, position) for position in range(first, last + 1)]
    return [value for value in found if value]


def _control(value: str) -> str:
    """Return a control number without leading zeros, as watches store it."""
    value = value.strip()
    if value.isascii() and value.isdigit():
        return str(int(value))
    return value
