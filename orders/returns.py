"""Return requests: created by customers, then authorised by the ERP."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from integrations.outbox import outbox_enqueue
from orders.errors import ReturnNotAllowed
from orders.models import CustomerAccount, Order, ReturnLine, ReturnRequest
from orders.selectors import RETURNABLE_STATUSES, returnable_quantities


def return_request_create(
    *,
    account: CustomerAccount,
    order: Order,
    lines: dict[int, Decimal],
    reason: str,
    user: AbstractBaseUser | None,
) -> ReturnRequest:
    """Create a return request and ask the ERP to authorise it.

    ``lines`` maps order line ids to quantities; zero quantities are
    ignored. Raises ``ReturnNotAllowed`` with the reason when the order is
    not the account's, not delivered, or a quantity is more than was shipped
    and not yet requested back.
    """
    if order.account_id != account.pk or order.status not in RETURNABLE_STATUSES:
        raise ReturnNotAllowed(f"order {order.number} cannot be returned")
    wanted = {line_id: qty for line_id, qty in lines.items() if qty}
    if not wanted:
        raise ReturnNotAllowed("choose at least one line and quantity to return")

    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        _check_quantities(locked, wanted=wanted)
        request = ReturnRequest.objects.create(
            account=account,
            order=locked,
            number=f"tmp-{uuid.uuid4().hex[:24]}",
            reason=reason,
            created_by=user,
        )
        # The number comes from the primary key, so concurrent requests can
        # never compute the same one.
        request.number = f"RMA-{request.pk:06d}"
        request.save(update_fields=["number"])
        ReturnLine.objects.bulk_create(
            ReturnLine(return_request=request, order_line_id=line_id, quantity=qty)
            for line_id, qty in sorted(wanted.items())
        )
        outbox_enqueue(
            destination_code="erp",
            type="return.authorization_requested",
            subject=request.number,
            payload=_authorization_request(request),
            idempotency_key=f"return.authorization_requested:{request.number}",
            correlation_id=locked.number,
        )
    return request


def _check_quantities(order: Order, *, wanted: dict[int, Decimal]) -> None:
    """Refuse quantities that are negative or beyond what may still be returned.

    Expects the caller to hold the order's row lock, so two requests for the
    same lines cannot both pass the check.
    """
    available = returnable_quantities(order=order)
    for line_id, quantity in wanted.items():
        if line_id not in available:
            raise ReturnNotAllowed("a line does not belong to this order")
        if quantity < 0 or quantity > available[line_id]:
            limit = available[line_id].normalize()
            raise ReturnNotAllowed(f"at most {limit} can be returned for a line")


def _authorization_request(request: ReturnRequest) -> dict:
    return {
        "return_number": request.number,
        "order_number": request.order.number,
        "account_number": request.account.number,
        "reason": request.reason,
        "lines": [
            {
                "line_number": line.order_line.line_number,
                "sku": line.order_line.item.sku,
                "quantity": str(line.quantity),
            }
            for line in request.lines.select_related("order_line__item")
        ],
    }
