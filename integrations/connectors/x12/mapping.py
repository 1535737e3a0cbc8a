"""Map X12 files from the file drop to canonical events.

Accepted documents: 214 (carrier shipment status: one event per AT7), 856
(ship notice) and 945 (warehouse shipping advice), both ``shipment.packed``;
210 (freight invoice, ``freight.invoiced``), 846 (inventory advice,
``inventory.snapshot``), 940 (warehouse shipping order, ``order.released``),
944 (receipt advice, ``inventory.received`` or ``return.received``) and 990
(tender response, a milestone or an exception). A 204 load tender is refused
with its reason: tendering belongs to the TMS. Every other transaction set
is reported as not accepted yet, never dropped silently. A set the envelope
rule rejects (see ``integrations.edi.x12``) is reported with the tokenizer's
reason and its data is not used; envelope warnings are logged and the data
is used.

Codes go through the connection's code mapping: an unknown AT701 status is
a problem for that AT7 alone, never a default status (B01). Quantities and
weights are decimal strings, never floats.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from integrations.connectors.x12 import acks, codes
from integrations.edi.x12 import (
    FunctionalGroup,
    Interchange,
    TransactionSet,
    parse_interchanges,
)
from integrations.events import Event, EventType, ParseResult, Problem
from integrations.timezones import (
    TZ_ASSUMED,
    TZ_LOCATION,
    TZ_PAYLOAD,
    country_code_for,
    to_utc,
    zone_for_location,
)

if TYPE_CHECKING:
    from integrations.mappings import CodeLookup

logger = logging.getLogger(__name__)

_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)")
_KG = Decimal("0.001")
# Preferred LIN/SN qualifiers for the item number the ERP knows as the SKU:
# SKU, vendor's and buyer's part numbers, buyer's item, then the GTINs.
_SKU_QUALIFIERS = ("SK", "VP", "BP", "IN", "VN", "MG", "CB", "UP", "EN", "UK")


class _Unusable(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class _Context:
    """One accepted transaction set and what the mapping needs around it."""

    interchange: Interchange
    group: FunctionalGroup
    transaction: TransactionSet
    source: str
    lookup: CodeLookup

    @property
    def key(self) -> str:
        """Return the set's stable id: sender (ISA06), then ISA13, GS06 and ST02.

        Control numbers are only unique per sender - every partner numbers
        its interchanges from 1 - so two partners dropping files into the same
        connection must not collide.
        """
        numbers = "-".join(
            [
                self.interchange.control_number,
                self.group.control_number,
                self.transaction.st02,
            ]
        )
        return f"{self.interchange.sender}/{numbers}"

    @property
    def label(self) -> str:
        return self.transaction.label

    def unit(self, code: str) -> str | None:
        """Return the canonical unit of an X12 unit code; None when absent."""
        if not code:
            return None
        unit = self.lookup("unit", self.source, code)
        if unit is None:
            raise _Unusable(
                "unmapped_code",
                f"unmapped X12 unit code {code} (partner {self.interchange.sender})",
            )
        return unit


_Mapper = Callable[[_Context, ParseResult], None]


def parse_x12_file(raw: bytes, *, source: str, lookup: CodeLookup) -> ParseResult:
    """Turn one X12 file into canonical events and problems; never raise."""
    result = ParseResult()
    for interchange in parse_interchanges(raw):
        _log_warnings(interchange, source=source)
        for error in interchange.errors:
            _add_problem(result, Problem("invalid_envelope", error))
        for group in interchange.groups:
            for transaction in group.transaction_sets:
                context = _Context(interchange, group, transaction, source, lookup)
                _map_transaction(context, result)

    return result


def _log_warnings(interchange: Interchange, *, source: str) -> None:
    for warning in interchange.warnings:
        logger.warning(
            "X12 envelope warning: %s", warning, extra={"connection": source}
        )


def _map_transaction(context: _Context, result: ParseResult) -> None:
    transaction = context.transaction
    if not transaction.accepted:
        for error in transaction.errors:
            _add_problem(result, Problem("invalid_envelope", error))
        return
    mapper = _MAPPERS.get(transaction.st01)
    if mapper is None:
        _add_problem(result, _unsupported(transaction.st01))
        return

    try:
        mapper(context, result)
    except _Unusable as exc:
        _add_problem(result, Problem(exc.code, exc.reason))


def _unsupported(st01: str) -> Problem:
    name = codes.TRANSACTION_SET_NAMES.get(st01, "unknown transaction set")
    return Problem(
        "unsupported_document",
        f"X12 {st01 or '?'} ({name}) is not a document this hub accepts yet",
    )


def _add_problem(result: ParseResult, problem: Problem) -> None:
    # One unmapped code repeated across a file is one thing to fix.
    if problem not in result.problems:
        result.problems.append(problem)


# --- 214 Transportation Carrier Shipment Status -------------------------------


@dataclasses.dataclass
class _Status:
    """One AT7, where it sits in the set, and the MS1 that follows it."""

    at7: list[str]
    lx_index: int
    position: int
    location: tuple[str | None, str | None, str | None] | None = None


def map_214(context: _Context, result: ParseResult) -> None:
    """Map a 214: one milestone, delivery or exception event per AT7."""
    segments = context.transaction.segments
    b10 = _first(segments, "B10")
    tracking, shipment = _value(b10, 1), _value(b10, 2)
    if not (tracking or shipment):
        raise _Unusable(
            "invalid_value", f"{context.label}: B10 names no shipment (B1001, B1002)"
        )

    base: dict[str, Any] = {
        "tracking_number": tracking,
        "shipment_number": shipment,
        "consignee": _consignee(segments),
    }
    for status in _statuses(segments):
        try:
            event = _status_event(context, status, base=base)
        except _Unusable as exc:
            _add_problem(result, Problem(exc.code, exc.reason))
        else:
            result.events.append(event)


def _statuses(segments: list[list[str]]) -> list[_Status]:
    """Return each AT7 with its location: its MS1, else its LX loop's N4.

    The heading's N4s are the parties' addresses, never where a status
    happened, so they are not used as a location.
    """
    statuses: list[_Status] = []
    lx_places: dict[int, tuple[str | None, str | None, str | None]] = {}
    lx_index = per_lx = 0
    for elements in segments:
        tag = elements[0]
        if tag == "LX":
            lx_index, per_lx = lx_index + 1, 0
        elif tag == "AT7":
            per_lx += 1
            statuses.append(_Status(elements, lx_index, per_lx))
        elif tag == "MS1" and statuses and statuses[-1].location is None:
            statuses[-1].location = _place(elements, 1, 2, 3)
        elif tag == "N4" and lx_index:
            lx_places.setdefault(lx_index, _place(elements, 1, 2, 4))

    for status in statuses:
        if status.location is None:
            status.location = lx_places.get(status.lx_index)
    return statuses


def _place(
    elements: list[str], city: int, state: int, country: int
) -> tuple[str | None, str | None, str | None]:
    return _value(elements, city), _value(elements, state), _value(elements, country)


def _consignee(segments: list[list[str]]) -> dict[str, Any] | None:
    """Return the consignee (N1*CN, else the ship-to N1*ST) with its N4."""
    parties: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for elements in segments:
        tag = elements[0]
        if tag == "LX":
            break
        if tag == "N1":
            current = {
                "name": _value(elements, 2),
                "city": None,
                "state": None,
                "postal_code": None,
                "country": None,
            }
            parties.setdefault(_value(elements, 1) or "", current)
        elif tag == "N4" and current is not None:
            current["city"] = _value(elements, 1)
            current["state"] = _value(elements, 2)
            current["postal_code"] = _value(elements, 3)
            current["country"] = _country(_value(elements, 4))
    return parties.get("CN") or parties.get("ST")


def _status_event(context: _Context, status: _Status, *, base: dict) -> Event:
    """Map one AT7 to its canonical event."""
    at7 = status.at7
    where = f"{context.label} LX {status.lx_index}"
    code = (_value(at7, 1) or "").upper()
    if not code:
        raise _Unusable("invalid_value", f"{where}: AT7 has no status code (AT701)")
    canonical = context.lookup("shipment_status", context.source, code)
    if canonical is None:
        raise _Unusable(
            "unmapped_code",
            f"unmapped X12 status code {code} (partner {context.interchange.sender})",
        )

    kind = "estimated" if code in codes.ESTIMATE_CODES else "actual"
    reason, is_exception = _reason(context, _value(at7, 2))
    city, state, country = status.location or (None, None, None)
    moment, tz_source, has_time = _at7_moment(
        at7, where, kind=kind, place=(city, state, country)
    )
    data = {
        "tracking_number": base["tracking_number"],
        "shipment_number": base["shipment_number"],
        "status": canonical,
        "external_code": code,
        "description": codes.STATUS_DESCRIPTION.get(code),
        "kind": kind,
        "occurred_at": moment.isoformat(),
        "tz_source": tz_source,
        "city": city,
        "state": state,
        "country": _country(country),
        "reason_code": reason,
        "consignee": base["consignee"],
    }
    if kind == "estimated":
        data.update(_eta(moment, has_time=has_time))

    suffix = f".{status.position}" if status.position > 1 else ""
    return Event(
        id=f"{context.key}-{status.lx_index}{suffix}",
        source=context.source,
        type=_event_type(canonical, kind=kind, is_exception=is_exception),
        subject=base["shipment_number"] or base["tracking_number"],
        time=moment,
        data=data,
    )


def _reason(context: _Context, code: str | None) -> tuple[str | None, bool]:
    """Return the reason to record and whether it makes the status an exception.

    "Normal status" is no reason at all. A reason the mapping does not know
    is kept as sent but does not make an exception: the status decides.
    """
    if not code or code.upper() == codes.NORMAL_REASON:
        return None, False
    mapped = context.lookup("exception_reason", context.source, code)
    if mapped is None:
        return code, False
    return mapped, True


def _event_type(status: str, *, kind: str, is_exception: bool) -> str:
    if kind != "actual":
        return EventType.SHIPMENT_MILESTONE
    if status == "delivered":
        return EventType.SHIPMENT_DELIVERED
    if status == "exception" or is_exception:
        return EventType.SHIPMENT_EXCEPTION
    return EventType.SHIPMENT_MILESTONE


def _eta(moment: dt.datetime, *, has_time: bool) -> dict[str, str]:
    # A date-only estimate stays a date (DESIGN §6).
    if has_time:
        return {"eta": moment.isoformat()}
    return {"eta_date": moment.date().isoformat()}


def _at7_moment(
    at7: list[str],
    where: str,
    *,
    kind: str,
    place: tuple[str | None, str | None, str | None],
) -> tuple[dt.datetime, str, bool]:
    """Return the AT7's instant in UTC, its tz_source, and whether it had a time.

    From 004010 on the AT7 carries date, time and time code in AT705-AT707;
    before that AT705 is YYMMDD, AT706 the century, then time and code.
    """
    date_text, time_text, zone_code = (_value(at7, n) or "" for n in (5, 6, 7))
    if len(date_text) == 6 and len(time_text) == 2 and time_text.isdigit():
        date_text = time_text + date_text
        time_text, zone_code = (_value(at7, n) or "" for n in (7, 8))
    day = _date(date_text, f"{where}: AT7 date")
    if not time_text and kind == "actual":
        raise _Unusable("invalid_value", f"{where}: AT7 has a date but no time")
    clock = _time(time_text, f"{where}: AT7 time") if time_text else dt.time()

    try:
        moment, tz_source = _to_utc(dt.datetime.combine(day, clock), zone_code, place)
    except OverflowError as exc:
        # Year 9999 east of UTC, or year 1 west of it, has no UTC instant.
        raise _Unusable(
            "invalid_value", f"{where}: AT7 {date_text} {time_text} is out of range"
        ) from exc
    return moment, tz_source, bool(time_text)


def _to_utc(
    local: dt.datetime,
    zone_code: str,
    place: tuple[str | None, str | None, str | None],
) -> tuple[dt.datetime, str]:
    """Read a local time by its X12 time code, else by where it happened."""
    zone = codes.TIME_CODE_ZONE.get(zone_code.upper())
    if zone is not None and zone != codes.LOCAL_TIME:
        return to_utc(local, zone), TZ_PAYLOAD
    place_zone = zone_for_location(*place)
    if place_zone is not None:
        return to_utc(local, place_zone), TZ_LOCATION

    return local.replace(tzinfo=dt.UTC), TZ_ASSUMED


# --- 856 Ship Notice/Manifest --------------------------------------------------


def map_856(context: _Context, result: ParseResult) -> None:
    """Map an 856 to one ``shipment.packed``: its order, packs and items."""
    segments = context.transaction.segments
    bsn = _first(segments, "BSN")
    shipment_number = _value(bsn, 2)
    if not shipment_number:
        raise _Unusable("invalid_value", f"{context.label}: BSN02 shipment id is empty")

    notice = _ShipNotice(context)
    for elements in segments:
        notice.add(elements)
    order_number = _single_order(context, notice.orders)
    moment = _document_time(context, _value(bsn, 3), _value(bsn, 4))

    result.events.append(
        _packed_event(
            context,
            moment=moment,
            data={
                "order_number": order_number,
                "shipment_number": shipment_number,
                "ship_from": notice.ship_from,
                "packages": notice.packed(),
                "lines": notice.lines,
            },
        )
    )


class _ShipNotice:
    """Walk an 856's HL levels: shipment (S), order (O), pack (P), item (I).

    HL parents are not needed: every level belongs to the HL before it in
    file order, which also reads the senders that leave the parent out.
    """

    def __init__(self, context: _Context) -> None:
        self.context = context
        self.level = ""
        self.orders: list[str] = []
        self.packages: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []
        self.ship_from: str | None = None
        self.shipment_weight: str | None = None
        self.package: dict[str, Any] | None = None
        self.line: dict[str, Any] | None = None

    def add(self, elements: list[str]) -> None:
        tag = elements[0]
        if tag == "HL":
            self._open_level(_value(elements, 3) or "")
        elif tag == "PRF":
            _add_unique(self.orders, _value(elements, 1))
        elif tag == "MAN" and _value(elements, 1) == "GM" and self.package:
            self.package["sscc"] = _sscc(self.context, _value(elements, 2))
        elif tag == "TD1":
            self._weight(elements)
        elif tag == "N1" and _value(elements, 1) == "SF":
            self.ship_from = _value(elements, 4) or _value(elements, 2)
        elif tag == "LIN":
            self.line = _line(_lin_number(_value(elements, 1)), _sku(elements))
            self.lines.append(self.line)
        elif tag == "SN1" and self.line is not None and self.line["quantity"] is None:
            self.line["quantity"] = _decimal(
                self.context, _value(elements, 2), "SN102 quantity"
            )
            self.line["unit"] = self.context.unit(_value(elements, 3) or "")

    def _open_level(self, level: str) -> None:
        self.level, self.package, self.line = level, None, None
        if level == "P":
            self.package = _package()
            self.packages.append(self.package)

    def _weight(self, elements: list[str]) -> None:
        weight = _weight_kg(self.context, _value(elements, 7), _value(elements, 8))
        if self.package is not None:
            self.package["weight_kg"] = weight
        elif self.level == "S":
            self.shipment_weight = weight

    def packed(self) -> list[dict[str, Any]]:
        """Return the packages; a lone package takes the shipment's weight."""
        for line in self.lines:
            if line["quantity"] is None:
                raise _Unusable(
                    "invalid_value",
                    f"{self.context.label}: item {line['sku']} has no SN1 quantity",
                )
        if len(self.packages) == 1 and self.packages[0]["weight_kg"] is None:
            self.packages[0]["weight_kg"] = self.shipment_weight
        return self.packages


def _single_order(context: _Context, orders: list[str]) -> str:
    if not orders:
        raise _Unusable("invalid_value", f"{context.label}: no order number (PRF01)")
    if len(orders) > 1:
        raise _Unusable(
            "invalid_value",
            f"{context.label}: covers orders {', '.join(orders)}; "
            "one order per shipment is supported",
        )
    return orders[0]


def _lin_number(text: str | None) -> int | None:
    # The line number ties shipped quantities to order lines; a LIN01 that
    # is not a plain number ties nothing rather than the wrong line.
    if text and text.isascii() and text.isdigit():
        return int(text)
    return None


def _sku(lin: list[str]) -> str | None:
    """Return the item number by the preferred LIN qualifier."""
    pairs = {}
    for position in range(2, len(lin) - 1, 2):
        qualifier, number = _value(lin, position), _value(lin, position + 1)
        if qualifier and number:
            pairs.setdefault(qualifier, number)
    for qualifier in _SKU_QUALIFIERS:
        if qualifier in pairs:
            return pairs[qualifier]
    return next(iter(pairs.values()), None)


def _sscc(context: _Context, text: str | None) -> str | None:
    """Return an 18-digit SSCC from a MAN*GM value.

    Senders prefix the GS1 application identifier (00) and sometimes more
    zeros; everything before the last 18 digits must then be zeros.
    """
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) > 18:
        prefix, sscc = text[:-18], text[-18:]
        if set(prefix) == {"0"}:
            return sscc
    if len(text) > 20:
        raise _Unusable(
            "invalid_value", f"{context.label}: MAN*GM {text!r} is not an SSCC"
        )
    return text


# --- 945 Warehouse Shipping Advice --------------------------------------------


def map_945(context: _Context, result: ParseResult) -> None:
    """Map a 945 to one ``shipment.packed``: shipped lines and cartons."""
    segments = context.transaction.segments
    w06 = _first(segments, "W06")
    order_number, shipment_number = _value(w06, 2), _value(w06, 4)
    if not order_number:
        raise _Unusable(
            "invalid_value", f"{context.label}: W0602 depositor order number is empty"
        )
    if not shipment_number:
        raise _Unusable("invalid_value", f"{context.label}: W0604 shipment id is empty")

    advice = _ShippingAdvice(context)
    for elements in segments:
        advice.add(elements)
    advice.check_totals()
    moment = _document_time(context, _value(w06, 3), None)

    result.events.append(
        _packed_event(
            context,
            moment=moment,
            data={
                "order_number": order_number,
                "shipment_number": shipment_number,
                "ship_from": advice.ship_from,
                "packages": advice.packages,
                "lines": advice.lines,
            },
        )
    )


class _ShippingAdvice:
    """Collect a 945's W12 lines, MAN cartons and W03 totals."""

    def __init__(self, context: _Context) -> None:
        self.context = context
        self.line_number: int | None = None
        self.lines: list[dict[str, Any]] = []
        self.packages: list[dict[str, Any]] = []
        self.ship_from: str | None = None
        self.total_units: str | None = None

    def add(self, elements: list[str]) -> None:
        tag = elements[0]
        if tag == "LX":
            self.line_number = _lin_number(_value(elements, 1))
        elif tag == "W12":
            self.lines.append(self._line(elements))
        elif tag == "MAN" and _value(elements, 1) == "GM":
            package = _package()
            package["sscc"] = _sscc(self.context, _value(elements, 2))
            self.packages.append(package)
        elif tag == "N1" and _value(elements, 1) in ("SF", "WH"):
            self.ship_from = self.ship_from or (
                _value(elements, 4) or _value(elements, 2)
            )
        elif tag == "W03":
            self.total_units = _value(elements, 1)

    def _line(self, w12: list[str]) -> dict[str, Any]:
        line = _line(self.line_number, _value(w12, 8) or _value(w12, 6))
        line["quantity"] = _decimal(self.context, _value(w12, 3), "W1203 shipped")
        line["unit"] = self.context.unit(_value(w12, 5) or "")
        return line

    def check_totals(self) -> None:
        """Refuse an advice whose W03 total disagrees with its W12 lines."""
        if self.total_units is None:
            return
        said = Decimal(_decimal(self.context, self.total_units, "W0301 total"))
        found = sum((Decimal(line["quantity"]) for line in self.lines), Decimal(0))
        if said != found:
            raise _Unusable(
                "invalid_value",
                f"{self.context.label}: W03 says {said} units shipped, "
                f"the W12 lines add up to {found}",
            )


# --- 204 Motor Carrier Load Tender ---------------------------------------------


def map_204(context: _Context, result: ParseResult) -> None:
    """Refuse a 204: load tenders go from the TMS to carriers, never inward.

    DESIGN §2 makes the TMS the owner of carrier choice and tendering. A
    load tender that reaches the hub is misrouted, or comes from a partner
    that takes the hub for a carrier; recording it as a plan would let that
    partner choose carriers for the business. The message is kept with this
    reason so that a person can redirect it.
    """
    b2 = _first(context.transaction.segments, "B2")
    shipment = _value(b2, 4) or "(no B204)"
    raise _Unusable(
        "unsupported_document",
        f"{context.label} (Motor Carrier Load Tender) for shipment {shipment} "
        f"from partner {context.interchange.sender}: load tenders go from the "
        "TMS to carriers, so the hub accepts none from a partner",
    )


# --- 210 Motor Carrier Freight Details and Invoice ----------------------------


def map_210(context: _Context, result: ParseResult) -> None:
    """Map a 210 to one ``freight.invoiced``: the invoice, its charges, its refs.

    Money elements are type N2 (B307, L104, L305: ``148275`` is 1482.75);
    the rate L102 is type R and kept as sent (B13). A decimal point or any
    other stray character in an N2 element is a syntax error: the invoice
    is held with an ``invalid_value`` problem that names the segment, the
    element position and the 997 error (AK4 6), and is never stored 100
    times too large or too small. An invoice whose L1 charges or L305 do not
    add up to B307 is held as well.
    """
    invoice = _FreightInvoice(context)
    for position, elements in enumerate(context.transaction.segments, start=1):
        invoice.add(elements, position)

    result.events.append(invoice.event())


class _FreightInvoice:
    """Collect a 210's B3 header, C3 currency, N9 references and L1/L3 charges."""

    def __init__(self, context: _Context) -> None:
        self.context = context
        self.b3: list[str] | None = None
        self.b3_position = 0
        self.currency: str | None = None
        self.references: list[dict[str, str]] = []
        self.lines: list[dict[str, Any]] = []
        self.total: Decimal | None = None
        self.description: str | None = None

    def add(self, elements: list[str], position: int) -> None:
        tag = elements[0]
        if tag == "B3" and self.b3 is None:
            self.b3, self.b3_position = elements, position
        elif tag == "C3":
            self.currency = self.currency or _value(elements, 1)
        elif tag == "N9":
            _add_reference(self.references, elements)
        elif tag == "LX":
            self.description = None
        elif tag == "L5":
            self.description = self.description or _value(elements, 2)
        elif tag == "L1":
            self.lines.append(self._line(elements, position))
        elif tag == "L3":
            self.total = _n2(self.context, elements, 5, position)

    def _line(self, l1: list[str], position: int) -> dict[str, Any]:
        rate = _value(l1, 2)
        return {
            "line_number": _lin_number(_value(l1, 1)),
            "rate": _decimal(self.context, rate, "L102 rate") if rate else None,
            "rate_qualifier": _value(l1, 3),
            "charge": _money(_n2(self.context, l1, 4, position)),
            "charge_code": _value(l1, 8),
            "description": _value(l1, 12) or self.description,
        }

    def event(self) -> Event:
        context, b3 = self.context, self.b3
        if b3 is None:
            raise _Unusable("invalid_value", f"{context.label}: no B3 invoice header")
        number = _value(b3, 2)
        if not number:
            raise _Unusable("invalid_value", f"{context.label}: B302 invoice is empty")
        amount = _n2(context, b3, 7, self.b3_position)
        if amount is None:
            raise _Unusable("invalid_value", f"{context.label}: B307 amount is empty")
        self._check_total(amount)
        moment = _document_time(context, _value(b3, 6), None)

        data = {
            "invoice_number": number,
            "carrier_scac": _value(b3, 11),
            "pro_number": _value(b3, 3),
            "bol_number": _reference_value(self.references, codes.BILL_OF_LADING),
            "references": self.references,
            "invoiced_on": moment.date().isoformat(),
            "amount": str(amount),
            "currency": self.currency,
            "payment_method": _value(b3, 4),
            "lines": self.lines,
        }
        return Event(
            id=context.key,
            source=context.source,
            type=EventType.FREIGHT_INVOICED,
            subject=number,
            time=moment,
            data=data,
        )

    def _check_total(self, amount: Decimal) -> None:
        """Refuse an invoice whose charges or L3 total disagree with B307."""
        label = self.context.label
        charges = [Decimal(line["charge"]) for line in self.lines if line["charge"]]
        if charges and sum(charges) != amount:
            raise _Unusable(
                "invalid_value",
                f"{label}: the L1 charges add up to {sum(charges)}, B307 says {amount}",
            )
        if self.total is not None and self.total != amount:
            raise _Unusable(
                "invalid_value", f"{label}: L305 says {self.total}, B307 says {amount}"
            )


def _n2(
    context: _Context, elements: list[str], position: int, segment_position: int
) -> Decimal | None:
    """Read an N2 element; a syntax error names what a 997 AK3/AK4 reports."""
    text = _value(elements, position)
    if text is None:
        return None
    try:
        return implied_decimal(text, 2)
    except ValueError:
        tag = elements[0]
        raise _Unusable(
            "invalid_value",
            f"{context.label}: {tag}{position:02d} {text!r} is not an N2 number "
            f"(segment {tag} at position {segment_position}, element position "
            f"{position}): a syntax error, 997 AK4 6 (invalid character in data "
            "element); the document is held",
        ) from None


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _add_reference(references: list[dict[str, str]], n9: list[str]) -> None:
    qualifier, value = _value(n9, 1), _value(n9, 2)
    if qualifier and value:
        reference = {"qualifier": qualifier, "value": value}
        if reference not in references:
            references.append(reference)


def _reference_value(references: list[dict[str, str]], qualifier: str) -> str | None:
    return next(
        (ref["value"] for ref in references if ref["qualifier"] == qualifier), None
    )


# --- 990 Response to a Load Tender ---------------------------------------------


def map_990(context: _Context, result: ParseResult) -> None:
    """Map a 990: acceptance assigns the carrier, any other answer is an exception.

    An accepted tender (B104 ``A``) is an actual ``carrier_assigned``
    milestone (DESIGN §6: the step after ``tendered``). A declined tender,
    a counter proposal and a conditional acceptance all leave the shipment
    without a carrier on the tendered terms, so each is a
    ``shipment.exception`` with reason ``carrier`` and the carrier's words
    (V9 reason, K1 remarks) in the description, for a planner to act on.
    B103 carries a date only; the group's time is used when GS04 is the same
    day, and the time is read as UTC like every X12 document time.
    """
    segments = context.transaction.segments
    b1 = _first(segments, "B1")
    scac, shipment_number = _value(b1, 1), _value(b1, 2)
    code = (_value(b1, 4) or "").upper()
    if not shipment_number:
        raise _Unusable("invalid_value", f"{context.label}: B102 shipment id is empty")
    response = codes.TENDER_RESPONSE.get(code)
    if response is None:
        raise _Unusable(
            "unmapped_code",
            f"unmapped X12 tender response code {code or '(empty)'} (B104, "
            f"partner {context.interchange.sender})",
        )
    moment = _tender_time(context, _value(b1, 3))

    accepted = response == "accepted"
    data = {
        "tracking_number": None,
        "shipment_number": shipment_number,
        "status": "carrier_assigned" if accepted else "exception",
        "external_code": code,
        "description": _tender_description(segments, scac=scac, response=response),
        "kind": "actual",
        "occurred_at": moment.isoformat(),
        "tz_source": TZ_ASSUMED,
        "city": None,
        "state": None,
        "country": None,
        "reason_code": None if accepted else "carrier",
        "carrier_scac": scac,
        "carrier_reference": _segment_reference(segments, codes.CARRIER_REFERENCE),
    }
    result.events.append(
        Event(
            id=context.key,
            source=context.source,
            type=EventType.SHIPMENT_MILESTONE
            if accepted
            else EventType.SHIPMENT_EXCEPTION,
            subject=shipment_number,
            time=moment,
            data=data,
        )
    )


def _tender_time(context: _Context, date_text: str | None) -> dt.datetime:
    gs = context.group.gs
    same_day = date_text is not None and date_text == _value(gs, 4)
    return _document_time(context, date_text, _value(gs, 5) if same_day else None)


def _tender_description(
    segments: list[list[str]], *, scac: str | None, response: str
) -> str:
    """Return what the carrier answered, with its reason and remarks."""
    wording = {
        "accepted": "accepted",
        "conditional": "accepted on conditions",
        "countered": "answered with a counter proposal",
        "declined": "declined",
    }[response]
    text = f"Load tender {wording} by {scac or 'the carrier'}"
    v9 = _first(segments, "V9")
    reason = _value(v9, 8)
    if reason and response != "accepted":
        text += f" (reason {reason})"
    remarks = [
        " ".join(filter(None, (_value(k1, 1), _value(k1, 2))))
        for k1 in segments
        if k1[0] == "K1"
    ]
    if any(remarks):
        text += ": " + "; ".join(remark for remark in remarks if remark)
    return text


def _segment_reference(segments: list[list[str]], qualifier: str) -> str | None:
    return next(
        (
            _value(n9, 2)
            for n9 in segments
            if n9[0] == "N9" and _value(n9, 1) == qualifier
        ),
        None,
    )


# --- 846 Inventory Inquiry/Advice ------------------------------------------------


def map_846(context: _Context, result: ParseResult) -> None:
    """Map an 846 to one ``inventory.snapshot`` of one warehouse.

    The warehouse is the N1*WH party, else N1*ST (a stock report at the
    receiving plant), else the interchange sender (a WMS that reports only
    its own stock), read through the connection's location mapping. Each
    LIN gives the item (by the preferred LIN qualifier) and its available
    quantity: QTY 33 (available for sale), else QTY 17 (on hand), with the
    unit from QTY03 or the UIT that follows. A snapshot is applied whole or
    not at all, so that a replay after a mapping fix applies every line: one
    unreadable line holds the set, and each bad line is reported.
    """
    segments = context.transaction.segments
    bia = _first(segments, "BIA")
    warehouse = _warehouse(context, segments, qualifiers=("WH", "ST"))
    moment = _advice_time(context, segments, bia)

    advice = _InventoryAdvice(context)
    for elements in segments:
        advice.add(elements)
    lines, problems = advice.items()
    if problems:
        for problem in problems:
            _add_problem(result, problem)
        return

    data = {
        "warehouse": warehouse,
        "report_id": _value(bia, 3),
        "as_of": moment.isoformat(),
        "items": lines,
    }
    result.events.append(
        Event(
            id=context.key,
            source=context.source,
            type=EventType.INVENTORY_SNAPSHOT,
            subject=warehouse,
            time=moment,
            data=data,
        )
    )


def _warehouse(
    context: _Context, segments: list[list[str]], *, qualifiers: tuple[str, ...]
) -> str:
    """Return the hub's warehouse code for a document's reporting party.

    The party is the first N1 of the preferred qualifiers (its N104 code,
    else its name), else the interchange sender.
    """
    parties = {}
    for elements in segments:
        if elements[0] == "N1" and _value(elements, 1) in qualifiers:
            code = _value(elements, 4) or _value(elements, 2)
            parties.setdefault(_value(elements, 1), code)
    sender = context.interchange.sender
    code = next((parties[q] for q in qualifiers if parties.get(q)), None)
    where = f"partner {sender}"
    if code is None:
        code = sender
        named = " or N1*".join(qualifiers)
        where = f"the interchange sender, as no N1*{named} names one"
    warehouse = context.lookup("location", context.source, code)
    if warehouse is None:
        raise _Unusable("unmapped_code", f"unmapped X12 location code {code} ({where})")
    return warehouse


def _advice_time(
    context: _Context, segments: list[list[str]], bia: list[str] | None
) -> dt.datetime:
    """Return an 846's as-of time: DTM*007 with its time code, else BIA04/05."""
    dtm = next((s for s in segments if s[0] == "DTM" and _value(s, 1) == "007"), None)
    if dtm is not None and _value(dtm, 2):
        day = _date(_value(dtm, 2) or "", f"{context.label}: DTM*007 date")
        time_text = _value(dtm, 3)
        clock = _time(time_text, "DTM*007 time") if time_text else dt.time()
        local = dt.datetime.combine(day, clock)
        try:
            return _to_utc(local, _value(dtm, 4) or "", (None, None, None))[0]
        except OverflowError as exc:
            raise _Unusable(
                "invalid_value", f"{context.label}: DTM*007 {local} is out of range"
            ) from exc
    return _document_time(context, _value(bia, 4), _value(bia, 5))


class _InventoryAdvice:
    """Collect an 846's LIN items with their QTY quantities and units."""

    def __init__(self, context: _Context) -> None:
        self.context = context
        self.items_seen: list[tuple[list[str], dict[str, list[str | None]]]] = []
        self.last_quantity: list[str | None] | None = None
        delimiters = context.interchange.delimiters
        self.component = delimiters.component if delimiters else ""

    def add(self, elements: list[str]) -> None:
        tag = elements[0]
        if tag == "LIN":
            self.items_seen.append((elements, {}))
            self.last_quantity = None
        elif tag == "QTY" and self.items_seen:
            qualifier = _value(elements, 1) or ""
            unit = _value(elements, 3)
            if unit and self.component:
                unit = unit.split(self.component)[0]
            quantity = [_value(elements, 2), unit]
            self.items_seen[-1][1].setdefault(qualifier, quantity)
            self.last_quantity = quantity
        elif tag == "UIT" and self.last_quantity is not None:
            self.last_quantity[1] = self.last_quantity[1] or _value(elements, 1)

    def items(self) -> tuple[list[dict[str, Any]], list[Problem]]:
        """Return the readable items and a problem for each unreadable one."""
        lines: list[dict[str, Any]] = []
        problems: list[Problem] = []
        for position, (lin, quantities) in enumerate(self.items_seen, start=1):
            try:
                lines.append(self._item(lin, quantities, position))
            except _Unusable as exc:
                problems.append(Problem(exc.code, exc.reason))
        return lines, problems

    def _item(
        self, lin: list[str], quantities: dict[str, list[str | None]], position: int
    ) -> dict[str, Any]:
        sku = _sku(lin)
        where = f"{self.context.label} LIN {position} ({sku or 'no item id'})"
        if not sku:
            raise _Unusable("invalid_value", f"{where}: no item number")
        qualifier = next((q for q in codes.AVAILABLE_QUANTITY if q in quantities), None)
        if qualifier is None:
            found = ", ".join(sorted(quantities)) or "none"
            raise _Unusable(
                "invalid_value",
                f"{where}: no available (QTY 33) or on-hand (QTY 17) quantity; "
                f"QTY qualifiers found: {found}",
            )
        quantity, unit = quantities[qualifier]
        return {
            "sku": sku,
            "quantity": _decimal(self.context, quantity, f"{where}: QTY02"),
            "unit": self.context.unit(unit or ""),
            "quantity_qualifier": qualifier,
        }


# --- 944 Warehouse Stock Transfer Receipt Advice ----------------------------------


def map_944(context: _Context, result: ParseResult) -> None:
    """Map a 944 to ``return.received`` or ``inventory.received``.

    A receipt that names a return authorisation (N9*RZ) is goods coming
    back from a customer: ``return.received`` with the RMA number, which
    moves the return request on. Any other receipt is stock arriving at
    the warehouse: ``inventory.received``, a change to availability (a
    delta), unlike ``inventory.snapshot`` which states it whole. The
    warehouse is the N1*WH party through the location mapping; W07 lines
    must add up to the W14 total.
    """
    segments = context.transaction.segments
    w17 = _first(segments, "W17")
    receipt_number = _value(w17, 3)
    if not receipt_number:
        raise _Unusable(
            "invalid_value", f"{context.label}: W1703 warehouse receipt number is empty"
        )
    warehouse = _warehouse(context, segments, qualifiers=("WH",))
    lines = _receipt_lines(context, segments)
    moment = _document_time(context, _value(w17, 2), None)

    rma = _segment_reference(segments, codes.RETURN_AUTHORIZATION)
    data: dict[str, Any] = {
        "warehouse": warehouse,
        "receipt_number": receipt_number,
        "reference": _value(w17, 4),
        "received_at": moment.isoformat(),
        "lines": lines,
    }
    if rma:
        data = {"return_number": rma, **data}
    result.events.append(
        Event(
            id=context.key,
            source=context.source,
            type=EventType.RETURN_RECEIVED if rma else EventType.INVENTORY_RECEIVED,
            subject=rma or receipt_number,
            time=moment,
            data=data,
        )
    )


def _receipt_lines(
    context: _Context, segments: list[list[str]]
) -> list[dict[str, Any]]:
    """Return the W07 lines, checked against the W14 total."""
    lines = []
    total = None
    for elements in segments:
        if elements[0] == "W07":
            line = _line(None, _warehouse_item(elements, upc=3, first_pair=4))
            line["quantity"] = _decimal(context, _value(elements, 1), "W0701 received")
            line["unit"] = context.unit(_value(elements, 2) or "")
            line["lot"] = _value(elements, 8)
            if not line["sku"]:
                raise _Unusable("invalid_value", f"{context.label}: W07 names no item")
            lines.append(line)
        elif elements[0] == "W14":
            total = _value(elements, 1)
    if not lines:
        raise _Unusable("invalid_value", f"{context.label}: no W07 received lines")
    _check_sum(context, lines, total, "W14 says {said} units received")
    return lines


def _warehouse_item(elements: list[str], *, upc: int, first_pair: int) -> str | None:
    """Return the item number of a W01/W07 line by the preferred qualifier."""
    pairs = elements[first_pair : first_pair + 4]
    pairs += [""] * (4 - len(pairs))
    upc_code = _value(elements, upc)
    return _sku([elements[0], "", *pairs, "UP" if upc_code else "", upc_code or ""])


def _check_sum(
    context: _Context, lines: list[dict[str, Any]], said: str | None, what: str
) -> None:
    if said is None:
        return
    total = Decimal(_decimal(context, said, "total"))
    found = sum((Decimal(line["quantity"]) for line in lines), Decimal(0))
    if total != found:
        raise _Unusable(
            "invalid_value",
            f"{context.label}: {what.format(said=total)}, the lines add up to {found}",
        )


# --- 940 Warehouse Shipping Order ----------------------------------------------


def map_940(context: _Context, result: ParseResult) -> None:
    """Map a 940 to ``order.released`` when it carries what a release needs.

    A 940 is the depositor's instruction to ship, which in the hub is the
    ERP releasing an order: W0502 is the order number, W0503 the PO, the
    N1*DE party's code the customer account, N1*WH the ship-from warehouse
    (through the location mapping), N1*ST (else N1*CN) the ship-to address
    code, G62*10 (else G62*02) the requested date, and each LX/W01 a line.
    A 940 without an order number, account, warehouse or lines is held
    with one reason naming everything missing; the order service then
    checks the account, items, credit and availability as for any release.
    """
    segments = context.transaction.segments
    w05 = _first(segments, "W05")
    order = _ShippingOrder(context)
    for elements in segments:
        order.add(elements)
    order.check_complete(order_number=_value(w05, 2))
    warehouse = _warehouse(context, segments, qualifiers=("WH",))
    moment = _document_time(context, None, None)

    order_number = _value(w05, 2) or ""
    data = {
        "order_number": order_number,
        "account_number": order.parties.get("DE"),
        "po_number": _value(w05, 3),
        "ship_from": warehouse,
        "ship_to": order.parties.get("ST") or order.parties.get("CN"),
        "requested_date": order.requested_date(),
        "lines": order.lines,
    }
    result.events.append(
        Event(
            id=context.key,
            source=context.source,
            type=EventType.ORDER_RELEASED,
            subject=order_number,
            time=moment,
            data=data,
            correlationid=order_number,
        )
    )


class _ShippingOrder:
    """Collect a 940's N1 parties, G62 dates and LX/W01 lines."""

    def __init__(self, context: _Context) -> None:
        self.context = context
        self.parties: dict[str, str] = {}
        self.dates: dict[str, str] = {}
        self.line_number: int | None = None
        self.lines: list[dict[str, Any]] = []

    def add(self, elements: list[str]) -> None:
        tag = elements[0]
        if tag == "N1":
            code = _value(elements, 4)
            if code:
                self.parties.setdefault(_value(elements, 1) or "", code)
        elif tag == "G62":
            self.dates.setdefault(_value(elements, 1) or "", _value(elements, 2) or "")
        elif tag == "LX":
            self.line_number = _lin_number(_value(elements, 1))
        elif tag == "W01":
            self.lines.append(self._line(elements))

    def _line(self, w01: list[str]) -> dict[str, Any]:
        line = _line(self.line_number, _warehouse_item(w01, upc=3, first_pair=4))
        line["quantity"] = _decimal(self.context, _value(w01, 1), "W0101 ordered")
        line["unit"] = self.context.unit(_value(w01, 2) or "")
        return line

    def check_complete(self, *, order_number: str | None) -> None:
        """Refuse a 940 that lacks what ``order.released`` needs, naming it all."""
        missing = []
        if not order_number:
            missing.append("order number (W0502)")
        if "DE" not in self.parties:
            missing.append("depositor account (N1*DE N104)")
        if "WH" not in self.parties:
            missing.append("warehouse (N1*WH N104)")
        if not self.lines:
            missing.append("lines (W01)")
        elif any(not line["sku"] or not line["line_number"] for line in self.lines):
            missing.append("an item and line number (LX01) on every W01")
        if missing:
            raise _Unusable(
                "invalid_value",
                f"{self.context.label}: cannot release the order, missing "
                + ", ".join(missing),
            )

    def requested_date(self) -> str | None:
        for qualifier in codes.REQUESTED_DATE_QUALIFIERS:
            text = self.dates.get(qualifier)
            if text:
                return _date(text, f"{self.context.label}: G62*{qualifier}").isoformat()
        return None


# --- Shared pieces ------------------------------------------------------------


def _packed_event(
    context: _Context, *, moment: dt.datetime, data: dict[str, Any]
) -> Event:
    return Event(
        id=context.key,
        source=context.source,
        type=EventType.SHIPMENT_PACKED,
        subject=data["shipment_number"],
        time=moment,
        data=data,
        correlationid=data["order_number"],
    )


def _package() -> dict[str, Any]:
    return {
        "sscc": None,
        "weight_kg": None,
        "length_cm": None,
        "width_cm": None,
        "height_cm": None,
    }


def _line(line_number: int | None, sku: str | None) -> dict[str, Any]:
    return {"line_number": line_number, "sku": sku, "quantity": None, "unit": None}


def _document_time(
    context: _Context, date_text: str | None, time_text: str | None
) -> dt.datetime:
    """Return a document's date and time, else its group's, read as UTC.

    X12 sends no zone with BSN, W06 or GS times; the event time only orders
    documents, so the sender's clock is taken as it is.
    """
    candidates = [(date_text, time_text), (_value(context.group.gs, 4), None)]
    for day_text, clock_text in candidates:
        try:
            day = _date(day_text or "", "date")
            clock = _time(clock_text, "time") if clock_text else dt.time()
        except _Unusable:
            continue
        return dt.datetime.combine(day, clock, tzinfo=dt.UTC)
    raise _Unusable("invalid_value", f"{context.label}: no readable document date")


def _weight_kg(context: _Context, weight: str | None, unit: str | None) -> str | None:
    """Return a TD1 weight in kilograms as a decimal string (3 places)."""
    if not weight:
        return None
    factor = codes.KILOGRAMS_PER.get((unit or "").upper())
    if factor is None:
        raise _Unusable(
            "invalid_value", f"{context.label}: weight unit {unit!r} is not LB or KG"
        )
    value = Decimal(_decimal(context, weight, "weight")) * factor
    return str(value.quantize(_KG, rounding=ROUND_HALF_UP))


def _decimal(context: _Context, text: str | None, what: str) -> str:
    """Return an X12 decimal (type R) as a Decimal string, exactly as sent."""
    cleaned = (text or "").strip()
    if not _NUMBER.fullmatch(cleaned):
        raise _Unusable(
            "invalid_value", f"{context.label}: {what} {text!r} is not a number"
        )
    return str(Decimal(cleaned))


def implied_decimal(text: str, places: int) -> Decimal:
    """Read an X12 numeric element with implied decimals (type Nn).

    ``148275`` in an N2 element is 1482.75 (B13). A decimal point is a
    syntax error in an N-type element and raises ValueError, since reading
    ``1482.75`` either way would be a guess.
    """
    cleaned = text.strip()
    if not re.fullmatch(r"-?\d+", cleaned):
        raise ValueError(f"{text!r} is not an implied-decimal (N{places}) number")
    return Decimal(cleaned).scaleb(-places)


def _date(text: str, what: str) -> dt.date:
    """Read CCYYMMDD, or YYMMDD as 19YY/20YY around 1950 (older versions)."""
    digits = text.strip()
    if len(digits) == 6 and digits.isascii() and digits.isdigit():
        century = "19" if int(digits[:2]) >= 50 else "20"
        digits = century + digits
    try:
        if len(digits) != 8 or not (digits.isascii() and digits.isdigit()):
            raise ValueError(digits)
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError as exc:
        raise _Unusable("invalid_value", f"{what} {text!r} is not a date") from exc


def _time(text: str, what: str) -> dt.time:
    """Read HHMM, HHMMSS or HHMMSSD[D]; decimal seconds are dropped."""
    digits = text.strip()
    try:
        if len(digits) not in (4, 6, 7, 8) or not (
            digits.isascii() and digits.isdigit()
        ):
            raise ValueError(digits)
        return dt.time(int(digits[:2]), int(digits[2:4]), int(digits[4:6] or 0))
    except ValueError as exc:
        raise _Unusable("invalid_value", f"{what} {text!r} is not a time") from exc


def _first(segments: list[list[str]], tag: str) -> list[str] | None:
    return next((elements for elements in segments if elements[0] == tag), None)


def _value(elements: list[str] | None, position: int) -> str | None:
    """Return an element without its padding, or None when absent or empty."""
    if elements is None or position >= len(elements):
        return None
    return elements[position].strip() or None


def _country(value: str | None) -> str | None:
    return country_code_for(value) or value


def _add_unique(values: list[str], value: str | None) -> None:
    if value and value not in values:
        values.append(value)


_MAPPERS: dict[str, _Mapper] = {
    "204": map_204,
    "210": map_210,
    "214": map_214,
    "846": map_846,
    "856": map_856,
    "940": map_940,
    "944": map_944,
    "945": map_945,
    "990": map_990,
    "997": acks.map_997,
}
