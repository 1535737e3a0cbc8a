"""Map EDIFACT files from the file drop to canonical events.

Accepted messages:

- IFTSTA (status report): one event per STS in each consignment (CNI):
  ``shipment.milestone``, ``shipment.delivered`` or ``shipment.exception``
  by the mapped status. The consignment number (CNI C503) is the tracking
  number; DTM 334 (status change) is when it happened, LOC 175 where:
  its UN/LOCODE gives the country, whose zone reads a local time.
- DESADV (despatch advice): one ``shipment.packed`` per message; BGM's
  document number is the shipment number, RFF ON the order, one package
  per PAC (SSCC from GIN BJ, weight and size from MEA), one line per LIN
  with its despatched quantity (QTY 12).

Every other message type (INVOIC, ORDERS, ...) is reported as
``unsupported_document``. Envelope rules are in ``interchange``: a file or
message they refuse is ``invalid_envelope``; their warnings are logged and
the data is used. Quantities and weights are decimal strings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from integrations.connectors.carrier.scans import Scan, Unusable, add_problem, map_scans
from integrations.connectors.edifact import codes
from integrations.connectors.edifact.interchange import (
    Elements,
    EnvelopeError,
    Interchange,
    Message,
    component,
    parse_interchange,
)
from integrations.events import Event, EventType, ParseResult, Problem
from integrations.timezones import resolve_event_time

if TYPE_CHECKING:
    from integrations.mappings import CodeLookup

logger = logging.getLogger(__name__)

# DTM format codes (2379) read here: date, date and minutes, date and seconds.
_DTM_FORMATS = {"102": "%Y%m%d", "203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S"}
# Measurement units (6411) to kilograms and to centimetres.
_TO_KG = {"KGM": Decimal(1), "GRM": Decimal("0.001"), "LBR": Decimal("0.45359237")}
_TO_CM = {"CMT": Decimal(1), "MMT": Decimal("0.1"), "MTR": Decimal(100)}
_DIMENSIONS = {"LN": "length_cm", "WD": "width_cm", "HT": "height_cm"}
# Item number types (7143) in the order the ERP's SKU is looked for.
_SKU_TYPES = ("SA", "IN", "BP", "VN", "EN", "SRV")
_LINE_KEYS = ("line_number", "sku", "quantity", "unit")
# EDIFACT numeric elements hold at most 18 digits; anything far larger is
# not a measure and would only grow when written out in full.
_MAX_DIGITS = 18


@dataclasses.dataclass(frozen=True)
class _Context:
    interchange: Interchange
    message: Message
    source: str
    carrier_scac: str
    lookup: CodeLookup

    @property
    def key(self) -> str:
        # References are unique per sender only (UNB02), so the sender leads.
        return (
            f"{self.interchange.sender}/{self.interchange.reference}"
            f"-{self.message.reference}"
        )

    @property
    def label(self) -> str:
        return f"EDIFACT {self.message.type} {self.message.reference}"


def parse_edifact_file(
    raw: bytes, *, source: str, lookup: CodeLookup, carrier_scac: str = ""
) -> ParseResult:
    """Turn one EDIFACT file into canonical events and problems; never raise."""
    result = ParseResult()
    try:
        interchange = parse_interchange(raw)
    except EnvelopeError as exc:
        result.problems.append(Problem("invalid_envelope", str(exc)))
        return result

    for warning in interchange.warnings:
        logger.warning(
            "EDIFACT envelope warning: %s", warning, extra={"connection": source}
        )
    for error in interchange.errors:
        add_problem(result, Problem("invalid_envelope", error))
    for message in interchange.messages:
        context = _Context(interchange, message, source, carrier_scac, lookup)
        _map_message(context, result)

    return result


def _map_message(context: _Context, result: ParseResult) -> None:
    mapper = _MAPPERS.get(context.message.type)
    if mapper is None:
        add_problem(result, _unsupported(context.message.type))
        return
    try:
        mapper(context, result)
    except Unusable as exc:
        add_problem(result, exc.problem)


def _unsupported(message_type: str) -> Problem:
    name = codes.MESSAGE_NAMES.get(message_type, "unknown message type")
    return Problem(
        "unsupported_document",
        f"EDIFACT {message_type or '?'} ({name}) is not a document this hub accepts",
    )


# --- IFTSTA status report ------------------------------------------------------


def map_iftsta(context: _Context, result: ParseResult) -> None:
    """Map an IFTSTA: one event per STS, keyed to its consignment number."""
    number = ""
    scans: dict[str, list[Scan | Unusable]] = {}
    status: _Status | None = None
    for tag, elements in context.message.segments:
        if tag == "CNI":
            _close(status, scans)
            number, status = component(elements, 1), None
            if not number:
                raise Unusable(
                    "invalid_value", f"{context.label}: CNI without a number"
                )
        elif tag == "STS":
            _close(status, scans)
            if not number:
                raise Unusable("invalid_value", f"{context.label}: STS before any CNI")
            label = f"{context.label} {number} status {len(scans.get(number, []))}"
            status = _Status(number=number, label=label, sts=elements)
        elif status is not None:
            status.add(tag, elements)
    _close(status, scans)

    if not scans:
        raise Unusable("invalid_value", f"{context.label}: no STS status segment")
    for tracking_number, read in scans.items():
        map_scans(
            result,
            read,
            tracking_number=tracking_number,
            source=context.source,
            carrier_scac=context.carrier_scac or context.source,
            lookup=context.lookup,
        )


@dataclasses.dataclass
class _Status:
    """One STS and the DTM, LOC and FTX segments that follow it."""

    number: str
    label: str
    sts: Elements
    moment: tuple[str, str] | None = None
    place: tuple[str, str] = ("", "")

    def add(self, tag: str, elements: Elements) -> None:
        qualifier = component(elements, 0, 0)
        if tag == "DTM" and qualifier == "334" and self.moment is None:
            self.moment = (component(elements, 0, 1), component(elements, 0, 2))
        elif tag == "LOC" and qualifier == "175":
            locode = component(elements, 1, 0)
            self.place = (component(elements, 1, 3), locode[:2])

    def scan(self) -> Scan | Unusable:
        code = component(self.sts, 1, 0)
        if not code:
            return Unusable("invalid_value", f"{self.label}: STS status code is empty")
        if self.moment is None:
            return Unusable("invalid_value", f"{self.label}: no DTM 334 event time")
        city, country = self.place
        try:
            local = _dtm(*self.moment)
        except ValueError:
            value, fmt = self.moment
            return Unusable(
                "invalid_value",
                f"{self.label}: DTM {value!r} (format {fmt}) is not a date-time",
            )
        return Scan(
            carrier_id="",
            code=code,
            description=component(self.sts, 1, 3),
            moment=resolve_event_time(local, city=city, country=country),
            city=city,
            state="",
            country=country,
            reason=component(self.sts, 2, 0),
        )


def _close(status: _Status | None, scans: dict[str, list[Scan | Unusable]]) -> None:
    if status is not None:
        scans.setdefault(status.number, []).append(status.scan())


def _dtm(value: str, fmt: str) -> dt.datetime:
    """Read a DTM value in one of the supported formats, naive; else ValueError."""
    pattern = _DTM_FORMATS.get(fmt or "102")
    if pattern is None:
        raise ValueError(f"DTM format {fmt} is not read")
    return dt.datetime.strptime(value, pattern)


# --- DESADV despatch advice ----------------------------------------------------


def map_desadv(context: _Context, result: ParseResult) -> None:
    """Map a DESADV to one ``shipment.packed``: order, packages and lines."""
    advice = _Advice(context)
    for tag, elements in context.message.segments:
        advice.add(tag, elements)
    if not advice.shipment_number:
        raise Unusable(
            "invalid_value", f"{context.label}: BGM document number is empty"
        )
    if not advice.order_number:
        raise Unusable("invalid_value", f"{context.label}: no RFF ON order number")

    moment = advice.moment or _prepared(context)
    result.events.append(
        Event(
            id=context.key,
            source=context.source,
            type=EventType.SHIPMENT_PACKED,
            subject=advice.shipment_number,
            time=moment,
            data={
                "order_number": advice.order_number,
                "shipment_number": advice.shipment_number,
                "ship_from": "",
                "packages": advice.packages,
                "lines": [
                    {key: line[key] for key in _LINE_KEYS}
                    for line in advice.lines
                    if line["sku"]
                ],
            },
            correlationid=advice.order_number,
        )
    )


class _Advice:
    """Walk a DESADV's segments in file order, collecting what it packs."""

    def __init__(self, context: _Context) -> None:
        self.context = context
        self.shipment_number = ""
        self.order_number = ""
        self.moment: dt.datetime | None = None
        self.packages: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []
        self._handlers: dict[str, Callable[[Elements], None]] = {
            "BGM": self._bgm,
            "DTM": self._dtm,
            "RFF": self._rff,
            "PAC": self._pac,
            "MEA": self._mea,
            "GIN": self._gin,
            "LIN": self._lin,
            "PIA": self._pia,
            "QTY": self._qty,
        }

    def add(self, tag: str, elements: Elements) -> None:
        handler = self._handlers.get(tag)
        if handler is not None:
            handler(elements)

    def _bgm(self, elements: Elements) -> None:
        self.shipment_number = component(elements, 1, 0)

    def _dtm(self, elements: Elements) -> None:
        if component(elements, 0, 0) != "137" or self.moment is not None:
            return
        try:
            naive = _dtm(component(elements, 0, 1), component(elements, 0, 2))
        except ValueError:
            return  # The interchange date stands in for an unreadable one.
        self.moment = naive.replace(tzinfo=dt.UTC)

    def _rff(self, elements: Elements) -> None:
        if component(elements, 0, 0) == "ON" and not self.order_number:
            self.order_number = component(elements, 0, 1)

    def _pac(self, elements: Elements) -> None:
        # TODO: expand a PAC count above 1 without SSCCs into that many
        # packages; when the shipment model keeps a package count.
        self.packages.append(
            {
                "sscc": None,
                "weight_kg": None,
                "length_cm": None,
                "width_cm": None,
                "height_cm": None,
            }
        )

    def _mea(self, elements: Elements) -> None:
        if not self.packages or self.lines:
            return
        package = self.packages[-1]
        dimension = component(elements, 1, 0)
        unit, value = component(elements, 2, 0), component(elements, 2, 1)
        if dimension == "AAD" and unit in _TO_KG:
            package["weight_kg"] = self._scaled(value, _TO_KG[unit])
        elif dimension in _DIMENSIONS and unit in _TO_CM:
            package[_DIMENSIONS[dimension]] = self._scaled(value, _TO_CM[unit])

    def _gin(self, elements: Elements) -> None:
        if component(elements, 0) == "BJ" and self.packages and not self.lines:
            if self.packages[-1]["sscc"] is None:
                self.packages[-1]["sscc"] = component(elements, 1, 0)

    def _lin(self, elements: Elements) -> None:
        number = component(elements, 0)
        item_type = component(elements, 2, 1)
        self.lines.append(
            {
                "line_number": int(number) if _is_count(number) else None,
                "sku": component(elements, 2, 0) or None,
                "sku_type": item_type,
                "quantity": None,
                "unit": None,
            }
        )

    def _pia(self, elements: Elements) -> None:
        if not self.lines:
            return
        line = self.lines[-1]
        item_type = component(elements, 1, 1)
        if item_type in _SKU_TYPES and _SKU_TYPES.index(item_type) < _rank(line):
            line["sku"], line["sku_type"] = component(elements, 1, 0), item_type

    def _qty(self, elements: Elements) -> None:
        if component(elements, 0, 0) != "12" or not self.lines:
            return
        line = self.lines[-1]
        line["quantity"] = self._scaled(component(elements, 0, 1), Decimal(1))
        line["unit"] = component(elements, 0, 2) or None

    def _scaled(self, value: str, factor: Decimal) -> str:
        # EDIFACT has no thousands separator, and the decimal mark is a point
        # or a comma (UNA may name either), so a comma is always a decimal.
        try:
            number = Decimal(value.replace(",", "."))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite() or abs(number.adjusted()) > _MAX_DIGITS:
            raise Unusable(
                "invalid_value", f"{self.context.label}: {value!r} is not a number"
            )
        return format((number * factor).normalize(), "f")


def _is_count(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 6


def _rank(line: dict[str, Any]) -> int:
    kind = line.get("sku_type") or ""
    return _SKU_TYPES.index(kind) if kind in _SKU_TYPES else len(_SKU_TYPES)


def _prepared(context: _Context) -> dt.datetime:
    """Return the interchange's preparation time (UNB), read as UTC."""
    day, clock = context.interchange.prepared
    pattern = "%y%m%d" if len(day) == 6 else "%Y%m%d"
    try:
        moment = dt.datetime.strptime(day + (clock or "0000"), pattern + "%H%M")
    except ValueError as exc:
        raise Unusable("invalid_value", f"{context.label}: no readable date") from exc
    return moment.replace(tzinfo=dt.UTC)


_MAPPERS: dict[str, Callable[[_Context, ParseResult], None]] = {
    "IFTSTA": map_iftsta,
    "DESADV": map_desadv,
}
