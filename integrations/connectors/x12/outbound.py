"""Send outbox messages to X12 partners as files: 940, 204 and 997.

An outbox row whose destination speaks ``x12_file`` is rendered by its type
and written into ``<WAYBILL_VAR_DIR>/outbound/<connection code>/``, one file
per interchange named after its ISA13 (``000000042-940.x12``). The file is
written under a hidden temporary name, flushed to disk and renamed, so a
partner polling the folder never reads half an interchange.

Documents, by outbox type:

``fulfilment.requested`` -> 940 Warehouse Shipping Order (group ``OW``)
    The payload the hub sends the WMS when it releases an order
    (``orders.services``): ``order_number``, ``account_number``,
    ``ship_from`` (warehouse code), ``ship_to`` ``{name, line1, city, state,
    postal_code, country}``, ``requested_date`` (ISO date or None) and
    ``lines`` ``[{line_number, sku, quantity, unit}]``.
``shipment.tender`` -> 204 Motor Carrier Load Tender (group ``SM``)
    ``shipment_number``, ``order_number``, ``carrier_scac``, ``ship_from``
    and ``ship_to`` (each an address ``{name, line1, city, state,
    postal_code, country}``), ``packages`` ``[{weight_kg, ...}]`` (weights
    as decimal strings) and ``pickup_date`` (ISO date).
``x12.997`` -> 997 Functional Acknowledgement (group ``FA``)
    Written by ``integrations.connectors.x12.acks`` for an inbound group;
    its payload already carries its control numbers.

Control numbers. Each interchange takes the partner's next ISA13, GS06 and
ST02 from ``X12ControlNumbers`` under a row lock, so they only increase and
are never reused. The numbers of a 940 or 204 are stored on the group's
``AckWatch`` (linked to the outbox row) before the file is written, and a
retry of the row writes the same interchange again, byte for byte, so the
partner's duplicate check recognises it. The watch expects the partner's
997 within ``Connection.ack_window_minutes`` of the write. A partner with no
window gets no watch, and the schema has no other place for the numbers: a
retry to such a partner takes new ones (never reused ones).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.edi import writer
from integrations.edi.writer import (
    Envelope,
    Profile,
    Segment,
    TransactionBody,
    Written,
    X12WriteError,
)
from integrations.models import AckWatch, Connection, OutboxMessage, X12ControlNumbers

logger = logging.getLogger(__name__)

# What ``deliver`` answers in place of an HTTP status: 201 for a file
# written, 422 for a payload no X12 document can be made of. The outbox
# treats 422 like any permanent refusal and dead-letters the row at once.
WRITTEN = 201
UNPROCESSABLE = 422

# The hub's own interchange id (ISA06, GS02).
HUB_INTERCHANGE_ID = "WAYBILL"
ACK_TYPE = "x12.997"

# The hub's unit codes to element 355, for W01 quantities.
X12_UNIT = {
    "EA": "EA",
    "CS": "CA",
    "CT": "CT",
    "BX": "BX",
    "PK": "PK",
    "PL": "PL",
    "DZ": "DZ",
    "PR": "PR",
    "ST": "ST",
    "RL": "RL",
    "BG": "BG",
    "DR": "DR",
    "LB": "LB",
    "KG": "KG",
    "G": "GR",
    "OZ": "OZ",
    "GAL": "GA",
    "L": "LT",
    "FT": "FT",
    "M": "MR",
}


# The default profile, for cleaning ids before a partner's profile exists.
_PLAIN = Profile(sender_id="X", receiver_id="X")
_IDS = frozenset({"sender_id", "receiver_id"})


class PayloadError(ValueError):
    """An outbox payload that lacks what its X12 document needs."""


def partner_profile(connection: Connection) -> Profile:
    """Return how a partner's interchanges are written.

    The connection's ``x12_*`` fields give what they set. The sender id
    defaults to the hub's, the receiver id to the partner's SCAC, else its
    connection code in upper case; everything else to the writer's defaults
    (``* : ~ ^``, version 00401, basic character set).
    """
    given = connection.x12_writer_options()
    # The default receiver id is cleaned with the partner's own separators
    # and character set, so no setting can make it unwritable.
    style = {key: value for key, value in given.items() if key not in _IDS}
    plain = Profile(sender_id="X", receiver_id="X", **style)
    receiver = writer.fit(connection.scac or connection.code, 15, profile=plain)
    options = {"sender_id": HUB_INTERCHANGE_ID, "receiver_id": receiver, **given}

    return Profile(**options)


def control_numbers_next(*, connection: Connection, transactions: int = 1) -> Envelope:
    """Take a partner's next ISA13, GS06 and ``transactions`` ST02 numbers.

    Runs in its own transaction, or in the caller's when one is open, so
    the numbers commit together with whatever records them.
    """
    X12ControlNumbers.objects.get_or_create(connection=connection)
    with transaction.atomic():
        # The row lock serialises every writer for this partner: two
        # workers can never take the same number, and each takes the next.
        numbers = X12ControlNumbers.objects.select_for_update().get(
            connection=connection
        )
        numbers.last_interchange += 1
        numbers.last_group += 1
        first = numbers.last_transaction + 1
        numbers.last_transaction += transactions
        envelope = Envelope(
            interchange=numbers.last_interchange,
            group=numbers.last_group,
            transactions=tuple(range(first, numbers.last_transaction + 1)),
            created_at=timezone.now(),
        )
        numbers.save(
            update_fields=["last_interchange", "last_group", "last_transaction"]
        )

    return envelope


def outbound_folder(connection: Connection) -> Path:
    """Return the folder a partner's outbound files are written to."""
    return Path(settings.VAR_DIR) / "outbound" / connection.code


def deliver(*, message: OutboxMessage) -> tuple[int | None, str]:
    """Write one outbox message as an X12 file; return (status, error text).

    A payload that cannot become a document answers 422 with the reason; a
    file-system failure answers no status, so the outbox retries it.
    """
    connection = message.destination
    try:
        written, code = render(message=message)
    except (PayloadError, X12WriteError) as exc:
        return UNPROCESSABLE, f"cannot write X12 for {message.type}: {exc}"[:500]

    name = f"{written.interchange_control}-{code}.x12"
    try:
        path = write_atomically(outbound_folder(connection), name, written.body)
    except OSError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]

    _start_ack_clock(message=message, connection=connection)
    logger.info(
        "X12 %s written to %s",
        code,
        path,
        extra={"connection": connection.code, "message_id": message.pk},
    )
    return WRITTEN, ""


def render(*, message: OutboxMessage) -> tuple[Written, str]:
    """Return the interchange for a message and its transaction set code.

    Renders the payload before taking control numbers, so a bad payload
    never uses one up.
    """
    document = _DOCUMENTS.get(message.type)
    if document is None:
        raise PayloadError(f"no X12 document is written for {message.type!r}")
    code, functional_id, build = document
    connection = message.destination
    profile = partner_profile(connection)
    if message.type == ACK_TYPE:
        profile = _reply_profile(profile, message.payload)
    body = TransactionBody(code, _build(build, message.payload, profile))

    envelope = _envelope(message=message, functional_id=functional_id)
    written = writer.write_interchange(
        profile=profile, envelope=envelope, functional_id=functional_id, sets=[body]
    )
    return written, code


def _build(
    build: Callable[[dict[str, Any], Profile], list[Segment]],
    payload: dict[str, Any],
    profile: Profile,
) -> list[Segment]:
    try:
        return build(payload, profile)
    except KeyError as exc:
        raise PayloadError(f"the payload has no {exc.args[0]!r}") from exc
    except (TypeError, AttributeError) as exc:
        raise PayloadError(f"the payload has an unexpected shape ({exc})") from exc


def _envelope(*, message: OutboxMessage, functional_id: str) -> Envelope:
    """Return the message's control numbers: stored ones on a retry, else new.

    A 997 carries its numbers in its payload. Any other document keeps them
    on its AckWatch, created with the numbers in one transaction, which
    also holds the outbox row's lock so two workers cannot both create one.
    """
    if message.type == ACK_TYPE:
        return _envelope_from_payload(message.payload)

    connection = message.destination
    with transaction.atomic():
        OutboxMessage.objects.select_for_update().filter(pk=message.pk).first()
        watch = AckWatch.objects.filter(outbox_message=message).first()
        if watch is not None:
            return _envelope_from_watch(watch)
        envelope = control_numbers_next(connection=connection)
        if connection.ack_window_minutes > 0:
            _open_watch(message, envelope=envelope, functional_id=functional_id)

    return envelope


def _envelope_from_payload(payload: dict[str, Any]) -> Envelope:
    numbers = payload.get("envelope") or {}
    try:
        return Envelope(
            interchange=int(numbers["interchange"]),
            group=int(numbers["group"]),
            transactions=(int(numbers["transaction"]),),
            created_at=dt.datetime.fromisoformat(numbers["created_at"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadError(f"the 997 payload has no usable envelope ({exc})") from exc


def _envelope_from_watch(watch: AckWatch) -> Envelope:
    return Envelope(
        interchange=int(watch.interchange_control),
        group=int(watch.group_control),
        transactions=tuple(int(number) for number in watch.transaction_sets),
        created_at=watch.sent_at,
    )


def _open_watch(
    message: OutboxMessage, *, envelope: Envelope, functional_id: str
) -> AckWatch:
    """Record the numbers of a group that expects a 997; its clock starts on write."""
    window = dt.timedelta(minutes=message.destination.ack_window_minutes)
    return AckWatch.objects.create(
        connection=message.destination,
        outbox_message=message,
        interchange_control=f"{envelope.interchange:09d}",
        group_control=str(envelope.group),
        functional_id=functional_id,
        transaction_sets=[f"{number:04d}" for number in envelope.transactions],
        sent_at=envelope.created_at,
        due_at=envelope.created_at + window,
    )


def _start_ack_clock(*, message: OutboxMessage, connection: Connection) -> None:
    """Give the partner its full window from the write that reached it."""
    if connection.ack_window_minutes <= 0:
        return
    due = timezone.now() + dt.timedelta(minutes=connection.ack_window_minutes)
    AckWatch.objects.filter(
        outbox_message=message, state=AckWatch.State.WAITING
    ).update(due_at=due)


def write_atomically(folder: Path, name: str, body: bytes) -> Path:
    """Write ``body`` to ``folder/name`` so that no reader sees it half written."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    # A leading dot hides the file from pollers (the hub's own file drop
    # skips such names) until the rename publishes it whole.
    temporary = folder / f".{name}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    _sync_folder(folder)

    return target


def _sync_folder(folder: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _reply_profile(profile: Profile, payload: dict[str, Any]) -> Profile:
    """Address a 997 back to whoever sent the group, from whom they wrote to."""
    sender = payload.get("sender") or {}
    receiver = payload.get("receiver") or {}
    options = {
        "receiver_id": _isa_id(sender.get("id")) or profile.receiver_id,
        "receiver_qualifier": _isa_id(sender.get("qualifier"))[:2] or "ZZ",
        "sender_id": _isa_id(receiver.get("id")) or profile.sender_id,
        "sender_qualifier": _isa_id(receiver.get("qualifier"))[:2] or "ZZ",
    }
    return Profile(**{**_profile_fields(profile), **options})


def _isa_id(value: object) -> str:
    return writer.fit(value or "", 15, profile=_PLAIN)


def _profile_fields(profile: Profile) -> dict[str, Any]:
    return {name: getattr(profile, name) for name in Profile.__dataclass_fields__}


# --- 940 Warehouse Shipping Order ---------------------------------------------


def build_940(payload: dict[str, Any], profile: Profile) -> list[Segment]:
    """Return the 940 segments (W05 to W76) for a fulfilment request.

    W05 (N: original order), N1/N3/N4 ship-to, N1*SF with the warehouse
    code, N9*11 account number, G62*10 requested ship date, then LX and W01
    (quantity, unit, SK: the SKU) per line, and W76 with the total quantity.
    """
    lines = payload["lines"]
    if not lines:
        raise PayloadError("a 940 needs at least one line")
    segments: list[Segment] = [
        ("W05", "N", _text(payload["order_number"], 22, profile))
    ]
    segments.extend(_party("ST", payload["ship_to"], profile))
    segments.append(("N1", "SF", None, "ZZ", _text(payload["ship_from"], 80, profile)))
    if payload.get("account_number"):
        segments.append(("N9", "11", _text(payload["account_number"], 30, profile)))
    if payload.get("requested_date"):
        segments.append(("G62", "10", _date(payload["requested_date"])))

    total = Decimal(0)
    for index, line in enumerate(lines, start=1):
        quantity = _decimal(line["quantity"], f"line {index} quantity")
        total += quantity
        segments.append(("LX", str(line.get("line_number") or index)))
        segments.append(
            (
                "W01",
                _number(quantity),
                _unit(line["unit"]),
                None,
                "SK",
                _text(line["sku"], 48, profile),
            )
        )
    segments.append(("W76", _number(total)))

    return segments


# --- 204 Motor Carrier Load Tender --------------------------------------------


def build_204(payload: dict[str, Any], profile: Profile) -> list[Segment]:
    """Return the 204 segments: one pick-up stop and one delivery stop.

    B2 (carrier SCAC, shipment number, PP: prepaid), B2A*00 (original),
    L11*OQ order number, S5*1*LD (load) with G62*37 (ship not before) and
    the ship-from party, S5*2*UL (unload) with the ship-to party, and L3
    with the total weight in kilograms and the package count.
    """
    scac = _text(payload["carrier_scac"], 4, profile)
    if len(scac) < 2:
        raise PayloadError(f"carrier_scac {payload['carrier_scac']!r} is not a SCAC")
    weight, count = _packages(payload["packages"])
    shipment = _text(payload["shipment_number"], 30, profile)

    segments: list[Segment] = [
        ("B2", None, scac, None, shipment, None, "PP"),
        ("B2A", "00"),
        ("L11", _text(payload["order_number"], 30, profile), "OQ"),
        ("S5", "1", "LD", _number(weight), "K", str(count), "CT"),
        ("G62", "37", _date(payload["pickup_date"])),
        *_party("SF", payload["ship_from"], profile),
        ("S5", "2", "UL", _number(weight), "K", str(count), "CT"),
        *_party("ST", payload["ship_to"], profile),
        ("L3", _number(weight), "G", *[None] * 8, str(count), "K"),
    ]
    return segments


def _packages(packages: list[dict[str, Any]]) -> tuple[Decimal, int]:
    if not packages:
        raise PayloadError("a 204 needs at least one package")
    weight = sum(
        (
            _decimal(package["weight_kg"], f"package {index} weight_kg")
            for index, package in enumerate(packages, start=1)
        ),
        Decimal(0),
    )
    return weight, len(packages)


# --- 997 Functional Acknowledgement -------------------------------------------


def build_997(payload: dict[str, Any], profile: Profile) -> list[Segment]:
    """Return the 997 segments (AK1 to AK9) from an acknowledgement payload.

    The payload is the one ``acks.group_acknowledgement`` returns: the
    group's id and control number, a result per set with its segment and
    element errors, and the group's result and counts.
    """
    segments: list[Segment] = [("AK1", payload["functional_id"], payload["group"])]
    for result in payload["sets"]:
        segments.append(("AK2", result["code"], result["control"]))
        for error in result.get("segments", []):
            segments.append(
                ("AK3", error["tag"], str(error["position"]), None, error["code"])
            )
            for element in error.get("elements", []):
                segments.append(
                    (
                        "AK4",
                        str(element["position"]),
                        None,
                        element["code"],
                        writer.fit(element.get("copy") or "", 99, profile=profile),
                    )
                )
        segments.append(("AK5", result["status"], *result["codes"][:5]))
    segments.append(
        (
            "AK9",
            payload["status"],
            str(payload["included"]),
            str(payload["received"]),
            str(payload["accepted"]),
            *payload["codes"][:5],
        )
    )
    return segments


# --- Shared pieces ------------------------------------------------------------


def _party(code: str, address: dict[str, Any], profile: Profile) -> list[Segment]:
    """Return N1 (code and name only), N3 and N4 for one address."""
    name = _text(address["name"], 60, profile)
    if not name:
        raise PayloadError(f"the {code} party has no name")
    return [
        ("N1", code, name),
        ("N3", _text(address.get("line1"), 55, profile)),
        (
            "N4",
            _text(address.get("city"), 30, profile),
            _text(address.get("state"), 2, profile),
            _text(address.get("postal_code"), 15, profile),
            _text(address.get("country"), 3, profile),
        ),
    ]


def _text(value: object, length: int, profile: Profile) -> str:
    if value is None:
        return ""
    return writer.fit(value, length, profile=profile)


def _decimal(value: object, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise PayloadError(f"{what} {value!r} is not a number") from exc
    if not number.is_finite() or number < 0:
        raise PayloadError(f"{what} {value!r} is not a quantity")
    return number


def _number(value: Decimal) -> str:
    """Return an X12 decimal (type R): no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


def _unit(code: str) -> str:
    unit = X12_UNIT.get(str(code).upper())
    if unit is None:
        raise PayloadError(f"unit {code!r} has no X12 unit code")
    return unit


def _date(value: object) -> str:
    try:
        return dt.date.fromisoformat(str(value)).strftime("%Y%m%d")
    except ValueError as exc:
        raise PayloadError(f"{value!r} is not an ISO date") from exc


_DOCUMENTS: dict[str, tuple[str, str, Callable[..., list[Segment]]]] = {
    "fulfilment.requested": ("940", "OW", build_940),
    "shipment.tender": ("204", "SM", build_204),
    ACK_TYPE: ("997", "FA", build_997),
}
