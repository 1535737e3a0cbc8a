"""Return requests: created by customers, then authorised by the ERP."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from integrations.errors import EventRejected
from integrations.outbox import outbox_enqueue
from orders.errors import (
    ReturnLinesMissing,
    ReturnLineUnknown,
    ReturnNotAllowed,
    ReturnQuantityExceeded,
    ReturnQuantityInvalid,
)
from orders.models import CustomerAccount, Order, OrderLine, ReturnLine, ReturnRequest
from orders.selectors import order_is_returnable, returnable_quantities

logger = logging.getLogger(__name__)

AUTHORIZATION_REQUESTED = "return.authorization_requested"
RECEIPT_EXPECTED = "return.receipt_expected"
# The ERP's answers to an authorisation request.
DECISIONS = {
    "authorized": ReturnRequest.Status.AUTHORIZED,
    "rejected": ReturnRequest.Status.REJECTED,
}


def return_request_create(
    *,
    account: CustomerAccount,
    order: Order,
    lines: dict[int, Decimal],
    reason: str,
    user: AbstractBaseUser | None,
) -> ReturnRequest:
    """Create a return request and ask the ERP to authorise it.

    ``lines`` maps order line ids to quantities; a zero quantity means the
    line is not returned. Raises an ``OrderError`` subclass, with a message
    fit for the customer, when the order is not the account's or has not
    reached it, or a quantity is not positive or more than was shipped and
    not yet requested back.
    """
    _check_order(account=account, order=order)
    wanted = _wanted_lines(lines)

    with transaction.atomic():
        # The order's row lock serialises requests against the same lines,
        # so two of them cannot both pass the quantity check.
        locked = Order.objects.select_for_update().get(pk=order.pk)
        _check_order(account=account, order=locked)
        _check_quantities(locked, wanted=wanted)
        request = _create_request(
            account=account, order=locked, wanted=wanted, reason=reason, user=user
        )
        outbox_enqueue(
            destination_code="erp",
            type=AUTHORIZATION_REQUESTED,
            subject=request.number,
            payload=_authorization_payload(request),
            idempotency_key=f"{AUTHORIZATION_REQUESTED}:{request.number}",
            correlation_id=locked.number,
        )

    logger.info(
        "return request %s created for order %s",
        request.number,
        locked.number,
        extra={"order_number": locked.number, "correlation_id": locked.number},
    )
    return request


def _check_order(*, account: CustomerAccount, order: Order) -> None:
    if order.account_id != account.pk:
        # Worded as for a missing order, so the answer says nothing about
        # another account's orders.
        raise ReturnNotAllowed(f"Order {order.number} was not found.")
    if not order_is_returnable(order=order):
        raise ReturnNotAllowed(
            f"Order {order.number} cannot be returned until it is delivered."
        )


def _wanted_lines(lines: dict[int, Decimal]) -> dict[int, Decimal]:
    for line_id, quantity in lines.items():
        if quantity < 0 or not quantity.is_finite():
            raise ReturnQuantityInvalid(
                "Enter a positive quantity to return.", line_id=line_id
            )
    wanted = {line_id: qty for line_id, qty in lines.items() if qty > 0}
    if not wanted:
        raise ReturnLinesMissing("Enter a quantity to return for at least one line.")
    return wanted


def _check_quantities(order: Order, *, wanted: dict[int, Decimal]) -> None:
    """Refuse quantities beyond what may still be returned.

    Expects the caller to hold the order's row lock.
    """
    lines = {line.pk: line for line in _lines_of(order)}
    available = returnable_quantities(order=order)
    for line_id, quantity in sorted(wanted.items()):
        line = lines.get(line_id)
        if line is None:
            raise ReturnLineUnknown(
                f"A line is not on order {order.number}.", line_id=line_id
            )
        if quantity > available[line_id]:
            raise ReturnQuantityExceeded(
                f"Line {line.line_number} ({line.item.sku}): at most "
                f"{available[line_id].normalize():f} {line.unit.code} can be "
                "returned.",
                line_id=line_id,
            )


def _lines_of(order: Order) -> list[OrderLine]:
    return list(order.lines.select_related("item", "unit"))


def _create_request(
    *,
    account: CustomerAccount,
    order: Order,
    wanted: dict[int, Decimal],
    reason: str,
    user: AbstractBaseUser | None,
) -> ReturnRequest:
    # A unique placeholder first, then the number from the primary key:
    # concurrent requests can never compute the same number.
    request = ReturnRequest.objects.create(
        account=account,
        order=order,
        number=f"new-{uuid.uuid4().hex[:24]}",
        reason=reason,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    request.number = f"RMA-{request.pk:06d}"
    request.save(update_fields=["number"])
    ReturnLine.objects.bulk_create(
        ReturnLine(return_request=request, order_line_id=line_id, quantity=qty)
        for line_id, qty in sorted(wanted.items())
    )
    return request


def _authorization_payload(request: ReturnRequest) -> dict[str, Any]:
    lines = request.lines.select_related("order_line__item", "order_line__unit")
    return {
        "return_number": request.number,
        "order_number": request.order.number,
        "account_number": request.account.number,
        "reason": request.reason,
        "requested_at": request.created_at.isoformat(),
        "lines": [
            {
                "line_number": line.order_line.line_number,
                "sku": line.order_line.item.sku,
                "quantity": f"{line.quantity.normalize():f}",
                "unit": line.order_line.unit.code,
            }
            for line in lines.order_by("order_line__line_number")
        ],
    }


def return_apply_authorized(*, data: dict[str, Any]) -> ReturnRequest:
    """Record the ERP's decision on a return request (``return.authorized``).

    ``data`` holds ``return_number``, ``decision`` (``authorized``, the
    default, or ``rejected``), and optionally ``rma_number`` and ``reason``.
    An authorised return tells the WMS to expect the goods. Only a request
    still waiting for a decision changes: a repeat or a late contradicting
    decision is kept in the event history and changes nothing.
    """
    number = str(data.get("return_number") or "")
    decision = str(data.get("decision") or "authorized")
    if decision not in DECISIONS:
        raise EventRejected(
            "invalid_value",
            f"return decision {decision!r} is not authorized or rejected",
        )
    request = (
        ReturnRequest.objects.select_for_update(of=("self",))
        .select_related("order", "account")
        .filter(number=number)
        .first()
    )
    if request is None:
        raise EventRejected("unknown_reference", f"unknown return request {number}")
    if request.status != ReturnRequest.Status.REQUESTED:
        return request

    request.status = DECISIONS[decision]
    request.save(update_fields=["status", "updated_at"])
    if request.status == ReturnRequest.Status.AUTHORIZED:
        outbox_enqueue(
            destination_code="wms",
            type=RECEIPT_EXPECTED,
            subject=request.number,
            payload={
                **_authorization_payload(request),
                "rma_number": str(data.get("rma_number") or ""),
            },
            idempotency_key=f"{RECEIPT_EXPECTED}:{request.number}",
            correlation_id=request.order.number,
        )
    logger.info(
        "return request %s %s by the ERP",
        request.number,
        request.status,
        extra={"correlation_id": request.order.number},
    )
    return request
