"""Returned goods arriving at the warehouse (a 944 naming an RMA)."""

from __future__ import annotations

import logging
from typing import Any

from integrations.errors import EventRejected
from orders.models import ReturnRequest

logger = logging.getLogger(__name__)

Status = ReturnRequest.Status

# A return not yet received moves to received; one already received or
# further on (credited, closed) stays where it is, so a repeated or late
# receipt changes nothing.
_BEFORE_RECEIPT = {Status.REQUESTED, Status.AUTHORIZED, Status.IN_TRANSIT}


def return_apply_received(*, data: dict[str, Any]) -> ReturnRequest:
    """Record that the warehouse received the goods of a return request.

    Returned goods go to inspection, not back into available stock, so
    availability is left alone. A rejected return that arrives anyway is
    refused for a person to decide what happens to the goods.
    """
    number = data.get("return_number") or ""
    request = ReturnRequest.objects.select_for_update().filter(number=number).first()
    if request is None:
        raise EventRejected("unknown_reference", f"unknown return {number}")
    if request.status == Status.REJECTED:
        raise EventRejected(
            "invalid_value",
            f"return {number} was rejected, yet warehouse "
            f"{data.get('warehouse')} reports receiving it "
            f"(receipt {data.get('receipt_number')})",
        )
    if request.status not in _BEFORE_RECEIPT:
        return request

    request.status = Status.RECEIVED
    request.save(update_fields=["status", "updated_at"])
    logger.info(
        "return %s received",
        number,
        extra={"correlation_id": request.order.number},
    )
    return request
