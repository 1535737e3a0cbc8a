"""Domain errors of orders and returns, each with a stable code.

The portal shows ``message`` as a form error and the partner API puts
``code`` in its problem details, so codes never change once published.
"""

from __future__ import annotations


class OrderError(Exception):
    """A request about an order that cannot be carried out, with a reason."""

    code = "order_error"

    def __init__(self, message: str, *, line_id: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Set when the fault is on one order line, so a form can show the
        # message beside that line's field.
        self.line_id = line_id


class ReturnNotAllowed(OrderError):
    """The order is not the account's, or its goods have not reached it."""

    code = "return_not_allowed"


class ReturnLinesMissing(OrderError):
    """The request names no line with a quantity to return."""

    code = "return_lines_missing"


class ReturnLineUnknown(OrderError):
    """A line id does not belong to the order."""

    code = "return_line_unknown"


class ReturnQuantityInvalid(OrderError):
    """A quantity is not a positive number."""

    code = "return_quantity_invalid"


class ReturnQuantityExceeded(OrderError):
    """A quantity is more than was shipped and not yet requested back."""

    code = "return_quantity_exceeded"
