"""Freight invoices: store what a carrier billed and reconcile it.

An invoice is linked to its shipment by the references it carries: the
shipment number in the PRO (B303), the shipper's reference (SI) or the bill
of lading (BM), else a tracking number in the PRO or the carrier's
reference (CN). It is then compared with the shipment's freight estimate.

Tolerance: ``WAYBILL_FREIGHT_TOLERANCE`` is a percentage of the estimate
when it ends with ``%`` (the default, ``"2%"``), else an amount in the
invoice's currency (``"5.00"``). A variance over it opens a
``freight_variance`` case; an invoice with no shipment or no estimate to
compare opens a ``freight_reconciliation`` case, since only a person can
settle it.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from integrations.errors import EventRejected
from operations.models import ExceptionCase
from operations.services import case_open, case_resolve
from shipments.models import FreightInvoice, FreightInvoiceLine, Shipment

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
# Money columns hold 12 digits, two after the point.
AMOUNT_LIMIT = Decimal(10) ** 10
DEFAULT_TOLERANCE = "2%"
Reconciliation = FreightInvoice.Reconciliation


def freight_invoice_apply(
    *, data: dict[str, Any], source: str, canonical_event_id: int | None = None
) -> FreightInvoice:
    """Store a carrier's invoice once, link it to its shipment and reconcile it.

    The same invoice sent again (same carrier and number) changes nothing;
    sent again with another amount it is rejected for a person to look at,
    since a carrier corrects an invoice under a new number. Expects to run
    inside the event's transaction.
    """
    scac = (data.get("carrier_scac") or "")[:4]
    number = str(data["invoice_number"])
    amount = _amount(data["amount"], "amount")
    existing = (
        FreightInvoice.objects.select_for_update()
        .filter(carrier_scac=scac, invoice_number=number)
        .first()
    )
    if existing is not None:
        return _same_invoice(existing, amount=amount)

    shipment = freight_invoice_shipment(data=data)
    invoice = FreightInvoice.objects.create(
        source=source,
        carrier_scac=scac,
        invoice_number=number,
        pro_number=(data.get("pro_number") or "")[:40],
        bol_number=(data.get("bol_number") or "")[:40],
        references=list(data.get("references") or []),
        shipment=shipment,
        invoiced_on=dt.date.fromisoformat(data["invoiced_on"]),
        amount=amount,
        currency=(data.get("currency") or "")[:3],
        reconciliation=Reconciliation.UNMATCHED,
        canonical_event_id=canonical_event_id,
    )
    _store_lines(invoice, lines=data.get("lines") or [])

    freight_invoice_reconcile(invoice)
    logger.info(
        "freight invoice %s recorded: %s",
        number,
        invoice.reconciliation,
        extra={"shipment_number": shipment.number if shipment else ""},
    )
    return invoice


def _same_invoice(invoice: FreightInvoice, *, amount: Decimal) -> FreightInvoice:
    if invoice.amount != amount:
        raise EventRejected(
            "invalid_value",
            f"freight invoice {invoice} was already recorded for "
            f"{invoice.amount}, now it says {amount}",
        )
    return invoice


def _amount(value: Any, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise EventRejected(
            "invalid_value", f"{what} {value!r} is not a number"
        ) from exc
    if not amount.is_finite():
        raise EventRejected("invalid_value", f"{what} {value!r} is not a number")
    if abs(amount) >= AMOUNT_LIMIT:
        raise EventRejected("invalid_value", f"{what} {value} is too large")
    return amount


def _optional(value: Any, what: str) -> Decimal | None:
    return None if value in (None, "") else _amount(value, what)


def _store_lines(invoice: FreightInvoice, *, lines: list[dict[str, Any]]) -> None:
    FreightInvoiceLine.objects.bulk_create(
        FreightInvoiceLine(
            invoice=invoice,
            line_number=line.get("line_number"),
            rate=_optional(line.get("rate"), "rate"),
            rate_qualifier=(line.get("rate_qualifier") or "")[:4],
            charge=_optional(line.get("charge"), "charge"),
            charge_code=(line.get("charge_code") or "")[:10],
            description=(line.get("description") or "")[:120],
        )
        for line in lines
    )


def freight_invoice_shipment(*, data: dict[str, Any]) -> Shipment | None:
    """Return the shipment an invoice's references name, or None.

    Shipment numbers are tried first (PRO, SI, BM), then tracking numbers
    (PRO, CN), each in the order the invoice gives them.
    """
    references = data.get("references") or []
    pro = data.get("pro_number")
    numbers = _unique([pro, *_values(references, "SI"), *_values(references, "BM")])
    if numbers:
        by_number = {
            shipment.number: shipment
            for shipment in Shipment.objects.filter(number__in=numbers)
        }
        found = next((by_number[n] for n in numbers if n in by_number), None)
        if found is not None:
            return found
    for tracking in _unique([pro, *_values(references, "CN")]):
        # The icontains pre-filter is only a narrowing step; membership of
        # the exact tracking number is checked on each candidate.
        for shipment in Shipment.objects.filter(tracking_numbers__icontains=tracking):
            if tracking in shipment.tracking_numbers:
                return shipment
    return None


def _values(references: list[dict[str, str]], qualifier: str) -> list[str]:
    return [ref.get("value") for ref in references if ref.get("qualifier") == qualifier]


def _unique(values: list[str | None]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def freight_tolerance(estimate: Decimal) -> Decimal:
    """Return the variance allowed against ``estimate`` by the setting."""
    setting = str(getattr(settings, "WAYBILL_FREIGHT_TOLERANCE", DEFAULT_TOLERANCE))
    setting = setting.strip()
    try:
        if setting.endswith("%"):
            share = Decimal(setting[:-1]) / 100
            return (abs(estimate) * share).quantize(CENT, rounding=ROUND_HALF_UP)
        return Decimal(setting)
    except InvalidOperation as exc:
        raise ValueError(
            f"WAYBILL_FREIGHT_TOLERANCE {setting!r} is neither '2%' nor '5.00'"
        ) from exc


def freight_invoice_reconcile(invoice: FreightInvoice) -> FreightInvoice:
    """Compare an invoice with its shipment's estimate; open a case if needed."""
    shipment = invoice.shipment
    estimate = shipment.freight_estimate if shipment else None
    invoice.estimate = estimate
    invoice.variance = None
    if shipment is None:
        invoice.reconciliation = Reconciliation.UNMATCHED
        _open_reconciliation_case(invoice, why="matches no shipment")
    elif estimate is None:
        invoice.reconciliation = Reconciliation.NO_ESTIMATE
        if not _settles_fallback(invoice, shipment=shipment):
            _open_reconciliation_case(
                invoice,
                why=f"for {shipment.number} has no freight estimate to compare",
            )
    else:
        _compare(invoice, shipment=shipment, estimate=estimate)
    invoice.save(update_fields=["estimate", "variance", "reconciliation"])
    return invoice


def _compare(invoice: FreightInvoice, *, shipment: Shipment, estimate: Decimal) -> None:
    key = _variance_key(invoice)
    currency = shipment.freight_currency
    invoice.variance = (invoice.amount - estimate).quantize(CENT)
    if currency and invoice.currency and currency != invoice.currency:
        invoice.reconciliation = Reconciliation.VARIANCE
        _open_variance_case(
            invoice,
            shipment=shipment,
            title=f"billed in {invoice.currency}, estimated in {currency}",
        )
        return
    tolerance = freight_tolerance(estimate)
    if abs(invoice.variance) <= tolerance:
        invoice.reconciliation = Reconciliation.MATCHED
        case_resolve(dedupe_key=key)
        return

    invoice.reconciliation = Reconciliation.VARIANCE
    sign = "+" if invoice.variance > 0 else ""
    _open_variance_case(
        invoice,
        shipment=shipment,
        title=(
            f"billed {invoice.amount}, estimated {estimate} "
            f"({sign}{invoice.variance}, tolerance {tolerance})"
        ),
    )


def _settles_fallback(invoice: FreightInvoice, *, shipment: Shipment) -> bool:
    """Put the carrier's bill on the case of a shipment sent without a TMS rate.

    A shipment released on its lane's fallback carrier (operations.fallback)
    has no estimate by design and already has a freight-reconciliation case;
    its invoice is the real rate that case waits for, so the case gets the
    amount for a person to approve instead of a second case opening.
    """
    key = f"fallback:{shipment.number}"
    if not ExceptionCase.objects.filter(dedupe_key=key).exists():
        return False
    case_open(
        kind="freight_reconciliation",
        dedupe_key=key,
        title=f"{shipment.number} shipped on fallback carrier "
        f"{invoice.carrier_scac}: invoiced {invoice.amount} {invoice.currency}",
        detail="The carrier's invoice settles the rate the TMS could not give; "
        "approve it and resolve this case.\n" + _detail(invoice),
        shipment=shipment,
        order=shipment.order,
    )
    return True


def _variance_key(invoice: FreightInvoice) -> str:
    return f"freight_variance:{invoice.carrier_scac}:{invoice.invoice_number}"


def _open_variance_case(
    invoice: FreightInvoice, *, shipment: Shipment, title: str
) -> None:
    case_open(
        kind="freight_variance",
        dedupe_key=_variance_key(invoice),
        title=f"Freight invoice {invoice} for {shipment.number}: {title}",
        detail=_detail(invoice),
        reason_code="freight_variance",
        shipment=shipment,
        order=shipment.order,
    )


def _open_reconciliation_case(invoice: FreightInvoice, *, why: str) -> None:
    shipment = invoice.shipment
    case_open(
        kind="freight_reconciliation",
        dedupe_key=f"freight_invoice:{invoice.carrier_scac}:{invoice.invoice_number}",
        title=f"Freight invoice {invoice} {why}",
        detail=_detail(invoice),
        reason_code=invoice.reconciliation,
        shipment=shipment,
        order=shipment.order if shipment else None,
    )


def _detail(invoice: FreightInvoice) -> str:
    references = ", ".join(
        f"{ref.get('qualifier')} {ref.get('value')}" for ref in invoice.references
    )
    return (
        f"Amount {invoice.amount} {invoice.currency or ''}".rstrip()
        + f"; PRO {invoice.pro_number or '-'}; BOL {invoice.bol_number or '-'}"
        + f"; references: {references or '-'}"
    )
