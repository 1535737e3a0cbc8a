"""Domain errors of orders and returns, with stable codes."""


class OrderError(Exception):
    """A request about an order that cannot be carried out, with a reason."""

    code = "order_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReturnNotAllowed(OrderError):
    """The order or its lines cannot be returned (yet)."""

    code = "return_not_allowed"
