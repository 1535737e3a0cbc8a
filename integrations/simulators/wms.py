"""The stand-in warehouse system: allocate, pick and pack what the hub requests.

Each fulfilment request is answered by three webhooks, one step-delay
apart: ``order.allocated``, ``order.picked`` and ``shipment.packed`` with
one carton per order line. Carton numbers are real SSCCs built from a
company prefix, so the same order always packs into the same SSCCs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from integrations.simulators.base import Incoming, Refused, Simulator

# GS1's own example company prefix, used in its documentation; it belongs to
# no real shipper, which is what a stand-in wants.
COMPANY_PREFIX = "0614141"
EXTENSION_DIGIT = "0"
UNIT_WEIGHT_KG = Decimal("1.250")
CARTON_TARE_KG = Decimal("0.400")
CARTON_CM = ("40.0", "30.0", "30.0")


class WmsSimulator(Simulator):
    """Allocate, pick and pack every fulfilment request."""

    name = "wms"

    def event_handlers(self) -> dict[str, Callable[[Incoming], None]]:
        """Return the reaction to each event type the WMS accepts."""
        return {
            "fulfilment.requested": self._on_fulfilment_requested,
            "return.receipt_expected": self._on_return_expected,
        }

    def _on_return_expected(self, incoming: Incoming) -> None:
        # Receiving returned goods is not simulated: the expectation is
        # checked and recorded, and the portal shows the return authorised.
        if not incoming.data.get("return_number") or not incoming.data.get("lines"):
            raise Refused(f"{incoming.type} needs return_number and lines")

    def _on_fulfilment_requested(self, incoming: Incoming) -> None:
        data = incoming.data
        order_number = str(data.get("order_number") or "")
        lines = data.get("lines")
        if not order_number or not isinstance(lines, list) or not lines:
            raise Refused("fulfilment.requested needs order_number and lines")
        for line in lines:
            _check_line(line)

        steps = [
            ("order.allocated", {"order_number": order_number}),
            ("order.picked", {"order_number": order_number}),
            ("shipment.packed", packed_data(data)),
        ]
        for step, (event_type, payload) in enumerate(steps, start=1):
            self.emit(
                type=event_type,
                subject=order_number,
                correlationid=order_number,
                data=payload,
                step=step,
            )


def _check_line(line: Any) -> None:
    if not isinstance(line, dict) or not line.get("sku"):
        raise Refused(f"line {line!r} has no sku")
    try:
        quantity = Decimal(str(line.get("quantity")))
    except ArithmeticError:
        quantity = Decimal("NaN")
    if not quantity.is_finite() or quantity <= 0:
        raise Refused(
            f"line {line.get('line_number')} quantity is not a positive number"
        )


def packed_data(request: dict[str, Any]) -> dict[str, Any]:
    """Return the ``shipment.packed`` data for a fulfilment request."""
    order_number = str(request["order_number"])
    lines = request["lines"]
    return {
        "order_number": order_number,
        "shipment_number": f"SH-{order_number}",
        "ship_from": str(request.get("ship_from") or ""),
        "packages": [carton(order_number, line) for line in lines],
        "lines": [
            {
                "line_number": line.get("line_number"),
                "sku": line.get("sku"),
                "quantity": str(line.get("quantity")),
            }
            for line in lines
        ],
    }


def carton(order_number: str, line: dict[str, Any]) -> dict[str, str]:
    """Return the one carton packed for an order line."""
    quantity = Decimal(str(line.get("quantity") or "0"))
    weight = (quantity * UNIT_WEIGHT_KG + CARTON_TARE_KG).quantize(Decimal("0.001"))
    length, width, height = CARTON_CM
    return {
        "sscc": sscc_for(f"{order_number}:{line.get('line_number')}"),
        "weight_kg": str(weight),
        "length_cm": length,
        "width_cm": width,
        "height_cm": height,
    }


def sscc_for(reference: str) -> str:
    """Return the 18-digit SSCC of a carton, stable for the same reference."""
    serial_digits = 17 - len(EXTENSION_DIGIT) - len(COMPANY_PREFIX)
    digest = int(hashlib.sha256(reference.encode()).hexdigest(), 16)
    serial = str(digest % 10**serial_digits).zfill(serial_digits)
    body = EXTENSION_DIGIT + COMPANY_PREFIX + serial
    return body + gs1_check_digit(body)


def gs1_check_digit(digits: str) -> str:
    """Return the GS1 mod-10 check digit for a string of digits."""
    # Weights alternate 3, 1, 3, ... starting from the rightmost digit.
    total = sum(
        int(digit) * (3 if index % 2 == 0 else 1)
        for index, digit in enumerate(reversed(digits))
    )
    return str((10 - total % 10) % 10)
