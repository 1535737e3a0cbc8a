"""The stand-in ERP: release orders, record confirmations, issue invoices.

Orders are released through the control API (``POST /_control/orders``),
which is how the demo and the tests start the order-to-ship chain. From the
hub the ERP takes shipment confirmations, customer-service flags, holds and
status changes, which it records, and invoice release requests, which it
answers with ``invoice.released`` carrying a PDF invoice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from integrations.simulators import documents
from integrations.simulators.base import Incoming, Refused, Simulator

CURRENCY = "USD"
# List prices of the demo's items; anything else sells at DEFAULT_PRICE.
PRICES = {
    "SKU-A": Decimal("18.50"),
    "SKU-B": Decimal("6.25"),
    "SKU-C": Decimal("12.00"),
    "SKU-D": Decimal("49.90"),
    "SKU-E": Decimal("1.75"),
    "SKU-F": Decimal("22.40"),
}
DEFAULT_PRICE = Decimal("10.00")
# Types the ERP records without reacting: the hub keeps it informed.
RECORDED_TYPES = (
    "shipment.confirmed",
    "shipment.status_changed",
    "order.flagged",
    "order.held",
)


class ErpSimulator(Simulator):
    """Release orders on request and invoice them once delivered."""

    name = "erp"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.orders: dict[str, dict[str, Any]] = {}
        self.freight: dict[str, Decimal] = {}
        self.invoices: dict[str, str] = {}

    def event_handlers(self) -> dict[str, Callable[[Incoming], None]]:
        """Return the reaction to each event type the ERP accepts."""
        handlers: dict[str, Callable[[Incoming], None]] = {
            event_type: self._on_recorded for event_type in RECORDED_TYPES
        }
        handlers["shipment.confirmed"] = self._on_shipment_confirmed
        handlers["invoice.release_requested"] = self._on_invoice_release_requested
        handlers["return.authorization_requested"] = self._on_return_requested
        return handlers

    def control_handlers(self) -> dict[str, Callable[[dict], dict]]:
        """Return the ERP's extra control verbs."""
        return {"orders": self._control_orders}

    def extra_state(self) -> dict[str, Any]:
        """Return the orders released and the invoices issued."""
        return {"released_orders": sorted(self.orders), "invoices": dict(self.invoices)}

    def reset_extra(self) -> None:
        """Forget orders, freight and invoices."""
        self.orders.clear()
        self.freight.clear()
        self.invoices.clear()

    def _control_orders(self, body: dict) -> dict:
        orders = body.get("orders")
        if not isinstance(orders, list):
            raise Refused("orders must be a list of order.released data", status=400)
        # Check every order before queueing any, so a bad batch sends nothing.
        for order in orders:
            if not isinstance(order, dict) or not order.get("order_number"):
                raise Refused(f"order {order!r} has no order_number", status=400)

        for order in orders:
            number = str(order["order_number"])
            with self.lock:
                self.orders[number] = order
            self.emit(
                type="order.released", subject=number, correlationid=number, data=order
            )

        return {"queued": len(orders)}

    def _on_recorded(self, incoming: Incoming) -> None:
        if not incoming.data.get("order_number"):
            raise Refused(f"{incoming.type} needs order_number")

    def _on_shipment_confirmed(self, incoming: Incoming) -> None:
        self._on_recorded(incoming)
        try:
            freight = Decimal(str(incoming.data.get("freight_estimate") or "0"))
        except ArithmeticError as exc:
            raise Refused("freight_estimate is not a number") from exc
        with self.lock:
            self.freight[str(incoming.data["order_number"])] = freight

    def _on_return_requested(self, incoming: Incoming) -> None:
        number = str(incoming.data.get("return_number") or "")
        order_number = str(incoming.data.get("order_number") or "")
        if not number or not order_number:
            raise Refused(f"{incoming.type} needs return_number and order_number")
        self.emit(
            type="return.authorized",
            subject=number,
            correlationid=order_number,
            data=return_decision(number, order_number=order_number),
            step=1,
        )

    def _on_invoice_release_requested(self, incoming: Incoming) -> None:
        order_number = str(incoming.data.get("order_number") or "")
        if not order_number:
            raise Refused("invoice.release_requested needs order_number")
        with self.lock:
            order = self.orders.get(order_number, {})
            freight = self.freight.get(order_number, Decimal(0))

        data = invoice_data(order_number, order=order, freight=freight)
        with self.lock:
            self.invoices[order_number] = data["invoice_number"]
        self.emit(
            type="invoice.released",
            subject=order_number,
            correlationid=order_number,
            data=data,
            step=1,
        )


def return_decision(return_number: str, *, order_number: str) -> dict[str, str]:
    """Return the ERP's answer to a return request: always authorised, with an RMA."""
    return {
        "return_number": return_number,
        "order_number": order_number,
        "decision": "authorized",
        "rma_number": f"ERP-{return_number}",
    }


def invoice_data(
    order_number: str, *, order: dict[str, Any], freight: Decimal
) -> dict[str, Any]:
    """Return the ``invoice.released`` data: lines at list price plus freight."""
    invoice_number = f"INV-{order_number}"
    lines = [_priced(line) for line in order.get("lines") or []]
    if freight:
        lines.append(("Freight", "1", freight))
    amount = sum((total for _, _, total in lines), Decimal(0)).quantize(Decimal("0.01"))
    pdf = documents.invoice_pdf(
        invoice_number=invoice_number,
        order_number=order_number,
        lines=lines,
        amount=amount,
        currency=CURRENCY,
        issued_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )
    return {
        "order_number": order_number,
        "invoice_number": invoice_number,
        "amount": str(amount),
        "currency": CURRENCY,
        "document": documents.attachment(filename=f"{invoice_number}.pdf", content=pdf),
    }


def _priced(line: dict[str, Any]) -> tuple[str, str, Decimal]:
    sku = str(line.get("sku") or "")
    quantity = str(line.get("quantity") or "0")
    try:
        total = Decimal(quantity) * PRICES.get(sku, DEFAULT_PRICE)
    except ArithmeticError:
        total = Decimal(0)
    if not total.is_finite():
        total = Decimal(0)
    return sku, quantity, total.quantize(Decimal("0.01"))
