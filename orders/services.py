"""Order lifecycle: release from the ERP, validation, fulfilment progress."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from integrations.errors import EventRejected
from integrations.outbox import outbox_enqueue
from masterdata.models import Item, ItemAvailability, Unit, UnitConversion, Warehouse
from operations.services import case_open, case_resolve
from orders.models import Address, CustomerAccount, Order, OrderLine

logger = logging.getLogger(__name__)

QUANTITY = Decimal("0.001")
# The largest line number the database column holds.
LINE_NUMBER_MAX = 2_147_483_647

# Order statuses in the order fulfilment reaches them; progress events only
# ever move an order to a later one, so late or repeated events are harmless.
ORDER_PROGRESS = [
    Order.Status.RECEIVED,
    Order.Status.ON_HOLD,
    Order.Status.RELEASED,
    Order.Status.ALLOCATED,
    Order.Status.PICKING,
    Order.Status.PACKED,
    Order.Status.PARTIALLY_SHIPPED,
    Order.Status.SHIPPED,
    Order.Status.DELIVERED,
    Order.Status.INVOICED,
    Order.Status.CLOSED,
]


def order_apply_released(*, data: dict[str, Any], correlation_id: str = "") -> Order:
    """Create or update an order the ERP released, validate it, and send it on.

    A valid order goes to the WMS as a fulfilment request; an invalid one is
    held with its reasons, a case is opened and the ERP is told. An order the
    hub has already released is left as it is. Expects to run inside the
    event's transaction.
    """
    account = _account(data.get("account_number"))
    lines = _lines(data.get("lines") or [])
    warehouse = Warehouse.objects.filter(code=data.get("ship_from") or "").first()
    ship_to = Address.objects.filter(
        account=account, code=data.get("ship_to") or ""
    ).first()

    order, created = Order.objects.select_for_update().get_or_create(
        number=data["order_number"], defaults={"account": account}
    )
    if not created and order.status not in (
        Order.Status.RECEIVED,
        Order.Status.ON_HOLD,
    ):
        return order
    if order.account_id != account.pk:
        raise EventRejected(
            "invalid_value", f"order {order.number} belongs to another account"
        )

    _store_header(order, data=data, warehouse=warehouse, ship_to=ship_to)
    _store_lines(order, lines=lines)

    reasons = _hold_reasons(
        order,
        account=account,
        warehouse=warehouse,
        ship_from_code=data.get("ship_from") or "(none)",
        lines=lines,
    )
    if reasons:
        return _hold(order, reasons=reasons)
    return _release(order, lines=lines, warehouse=warehouse)


def _account(number: Any) -> CustomerAccount:
    account = CustomerAccount.objects.filter(number=number or "").first()
    if account is None:
        raise EventRejected("unknown_reference", f"unknown customer account {number}")
    return account


def _lines(raw_lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resolve items and convert each quantity to the item's base unit."""
    if not raw_lines:
        raise EventRejected("invalid_value", "order has no lines")
    skus = {line.get("sku") for line in raw_lines}
    items = {item.sku: item for item in Item.objects.filter(sku__in=skus)}
    resolved = []
    for line in raw_lines:
        item = items.get(line.get("sku"))
        if item is None:
            raise EventRejected("unknown_reference", f"unknown item {line.get('sku')}")
        quantity = quantity_to_base(
            item=item,
            quantity=Decimal(str(line["quantity"])),
            unit_code=line.get("unit"),
        )
        line_number = int(line["line_number"])
        if not 0 <= line_number <= LINE_NUMBER_MAX:
            raise EventRejected(
                "invalid_value", f"line number {line_number} is out of range"
            )
        if quantity <= 0:
            raise EventRejected(
                "invalid_value",
                f"line {line_number} quantity must be greater than zero",
            )
        resolved.append(
            {"line_number": line_number, "item": item, "quantity": quantity}
        )
    if len({line["line_number"] for line in resolved}) != len(resolved):
        raise EventRejected("invalid_value", "order has repeated line numbers")
    return resolved


def quantity_to_base(
    *, item: Item, quantity: Decimal, unit_code: str | None
) -> Decimal:
    """Return a quantity in the item's base unit, rounded half-up to 0.001."""
    if not unit_code or unit_code == item.base_unit.code:
        return quantity.quantize(QUANTITY, rounding=ROUND_HALF_UP)
    conversion = (
        UnitConversion.objects.filter(
            from_unit__code=unit_code, to_unit=item.base_unit, item__in=[item]
        ).first()
        or UnitConversion.objects.filter(
            from_unit__code=unit_code, to_unit=item.base_unit, item__isnull=True
        ).first()
    )
    if conversion is None:
        raise EventRejected(
            "unmapped_code",
            f"no conversion from {unit_code} to {item.base_unit.code} for {item.sku}",
        )
    return (quantity * conversion.factor).quantize(QUANTITY, rounding=ROUND_HALF_UP)


def quantity_from_base(
    *, item: Item, quantity: Decimal, unit_code: str, places: int = 4
) -> Decimal:
    """Express a base-unit quantity in another unit, for display only.

    The result is rounded and must never be stored back: the base-unit
    quantity stays the record (59 EA is 4.9167 CS on screen, 59 EA in the
    database).
    """
    if unit_code == item.base_unit.code:
        return quantity
    factor = quantity_to_base(item=item, quantity=Decimal(1), unit_code=unit_code)
    return (quantity / factor).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
    )


def _store_header(
    order: Order,
    *,
    data: dict[str, Any],
    warehouse: Warehouse | None,
    ship_to: Address | None,
) -> None:
    requested = data.get("requested_date")
    order.po_number = data.get("po_number") or ""
    order.ship_from = warehouse
    order.ship_to = ship_to
    order.requested_date = dt.date.fromisoformat(requested) if requested else None
    order.save(
        update_fields=[
            "po_number",
            "ship_from",
            "ship_to",
            "requested_date",
            "updated_at",
        ]
    )


def _store_lines(order: Order, *, lines: list[dict[str, Any]]) -> None:
    """Replace the order's lines with the ERP's current ones."""
    order.lines.all().delete()
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            line_number=line["line_number"],
            item=line["item"],
            quantity=line["quantity"],
            unit_id=line["item"].base_unit_id,
        )
        for line in lines
    )


def _hold_reasons(
    order: Order,
    *,
    account: CustomerAccount,
    warehouse: Warehouse | None,
    ship_from_code: str,
    lines: list[dict[str, Any]],
) -> list[str]:
    """Return every reason the order cannot be released now, from the database."""
    available: dict[int, Decimal] = {}
    if warehouse is not None and warehouse.active:
        available = {
            row.item_id: row.quantity
            for row in ItemAvailability.objects.filter(
                warehouse=warehouse, item__in=[line["item"] for line in lines]
            )
        }
    return release_blockers(
        account=account,
        warehouse=warehouse,
        ship_from_code=ship_from_code,
        requested_date=order.requested_date,
        lines=lines,
        available=available,
    )


def release_blockers(
    *,
    account: CustomerAccount,
    warehouse: Warehouse | None,
    ship_from_code: str,
    requested_date: dt.date | None,
    lines: list[dict[str, Any]],
    available: dict[int, Decimal],
) -> list[str]:
    """Return every reason an order cannot be released, in the order checked.

    Checks credit status, the ship-from warehouse, the requested date and
    the availability of every line against ``available`` (item id to the
    quantity at the warehouse; a missing item has none). Pure, so the
    one-by-one and the set-based release give the same reasons.
    """
    reasons = []
    if account.credit_status != CustomerAccount.CreditStatus.OK:
        reasons.append(f"credit hold on account {account.number}")
    if warehouse is None or not warehouse.active:
        reasons.append(f"unknown or inactive ship-from warehouse {ship_from_code}")
        return reasons
    if requested_date and requested_date < _today_at(warehouse):
        reasons.append(f"requested date {requested_date.isoformat()} is in the past")
    for line in lines:
        have = available.get(line["item"].pk, Decimal(0))
        if have < line["quantity"]:
            sku = line["item"].sku
            reasons.append(
                f"insufficient availability for {sku} at {warehouse.code}: "
                f"need {line['quantity'].normalize():f}, "
                f"available {have.normalize():f}"
            )
    return reasons


def _today_at(warehouse: Warehouse) -> dt.date:
    """Return today's date where the warehouse is, since that is where it ships."""
    return timezone.now().astimezone(zoneinfo.ZoneInfo(warehouse.time_zone)).date()


def _hold(order: Order, *, reasons: list[str]) -> Order:
    order.status = Order.Status.ON_HOLD
    order.hold_reasons = reasons
    order.save(update_fields=["status", "hold_reasons", "updated_at"])
    order_hold_announce(order, reasons=reasons)
    return order


def order_hold_announce(order: Order, *, reasons: list[str]) -> None:
    """Open the hold case and tell the ERP why an order (already saved held) waits."""
    case_open(
        kind="order_hold",
        dedupe_key=f"hold:{order.number}",
        title=f"Order {order.number} held: {reasons[0]}",
        detail="\n".join(reasons),
        order=order,
    )
    outbox_enqueue(
        destination_code="erp",
        type="order.held",
        subject=order.number,
        payload={"order_number": order.number, "reasons": reasons},
        idempotency_key=f"order.held:{order.number}:{len(reasons)}:{reasons[0][:60]}",
        correlation_id=order.number,
    )
    logger.info(
        "order held",
        extra={"order_number": order.number, "correlation_id": order.number},
    )


def _release(
    order: Order, *, lines: list[dict[str, Any]], warehouse: Warehouse
) -> Order:
    _reserve(warehouse=warehouse, lines=lines)
    order.status = Order.Status.RELEASED
    order.hold_reasons = []
    order.released_at = timezone.now()
    order.save(update_fields=["status", "hold_reasons", "released_at", "updated_at"])
    case_resolve(dedupe_key=f"hold:{order.number}")
    outbox_enqueue(
        destination_code="wms",
        type="fulfilment.requested",
        subject=order.number,
        payload=fulfilment_payload(
            order, lines=order.lines.select_related("item__base_unit")
        ),
        idempotency_key=f"fulfilment.requested:{order.number}",
        correlation_id=order.number,
    )
    logger.info(
        "order released to WMS",
        extra={"order_number": order.number, "correlation_id": order.number},
    )
    return order


def _reserve(*, warehouse: Warehouse, lines: list[dict[str, Any]]) -> None:
    """Take the ordered quantities off the availability the next order sees.

    Rows are locked in primary-key order so that two releases touching the
    same items cannot deadlock.
    """
    needed: dict[int, Decimal] = {}
    for line in lines:
        needed[line["item"].pk] = (
            needed.get(line["item"].pk, Decimal(0)) + line["quantity"]
        )
    rows = (
        ItemAvailability.objects.select_for_update()
        .filter(warehouse=warehouse, item_id__in=needed)
        .order_by("pk")
    )
    for row in rows:
        row.quantity -= needed[row.item_id]
        row.save(update_fields=["quantity"])


def fulfilment_payload(order: Order, *, lines: Iterable[OrderLine]) -> dict[str, Any]:
    """Return the WMS fulfilment request for an order and its lines.

    ``lines`` in line-number order, each with its item and the item's base
    unit at hand.
    """
    address = order.ship_to
    return {
        "order_number": order.number,
        "account_number": order.account.number,
        "ship_from": order.ship_from.code,
        "ship_to": {
            "name": address.name if address else "",
            "line1": address.line1 if address else "",
            "city": address.city if address else "",
            "state": address.state if address else "",
            "postal_code": address.postal_code if address else "",
            "country": address.country if address else "",
        },
        "requested_date": order.requested_date.isoformat()
        if order.requested_date
        else None,
        "lines": [
            {
                "line_number": line.line_number,
                "sku": line.item.sku,
                "quantity": str(line.quantity),
                "unit": line.item.base_unit.code,
            }
            for line in lines
        ],
    }


def order_get_for_event(*, number: str) -> Order:
    """Return an order an event names, locked, or reject the event."""
    order = Order.objects.select_for_update().filter(number=number).first()
    if order is None:
        raise EventRejected("unknown_reference", f"unknown order {number}")
    return order


def order_advance(*, order: Order, status: str) -> bool:
    """Move an order forward to ``status``; return whether it moved.

    Expects the caller to hold the order's row lock.
    """
    if order.status in (Order.Status.ON_HOLD, Order.Status.CANCELLED):
        return False
    if ORDER_PROGRESS.index(status) <= ORDER_PROGRESS.index(order.status):
        return False
    order.status = status
    order.save(update_fields=["status", "updated_at"])
    return True


def order_apply_progress(*, data: dict[str, Any], status: str) -> Order:
    """Record WMS progress (allocated, picked) on an order."""
    order = order_get_for_event(number=data.get("order_number") or "")
    order_advance(order=order, status=status)
    return order


def unit_for_code(code: str) -> Unit | None:
    """Return the unit with this code, if the hub knows it."""
    return Unit.objects.filter(code=code).first()
