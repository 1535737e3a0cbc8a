"""Release a run of ERP orders together, with one statement per table.

``order_apply_released`` handles one order with a few dozen queries; for a
high-volume sender (a bulk inbound batch of new orders) that cost is the
whole pipeline. ``orders_apply_released_many`` applies a run of
``order.released`` payloads in the caller's transaction: it reads the master
data the run names with one query per table, decides every order in arrival
order against an in-memory copy of availability (so an earlier order still
reserves before a later one), then writes orders, lines, reservations and
WMS fulfilment requests set-based. The reasons, cases and messages are the
ones the one-by-one path gives; a test holds the two paths to that.

It takes only what it can decide exactly as that path would:

- an order the hub already has, or a second payload for one order, ends the
  run there (``CUT``), since the one-by-one path may re-validate it and
  reserve stock, which must happen in its turn;
- a payload the one-by-one path would reject (unknown account or item, no
  lines, a missing unit conversion, a malformed value) is left to it
  (``DEFERRED``) to record the reason; a rejection changes nothing, so its
  place in the run does not matter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.events import BatchOutcome
from integrations.models import Connection, OutboxMessage
from integrations.outbox import outbox_queue_dispatch_many
from masterdata.inventory import quantity_to_base_with, unit_factors_load
from masterdata.models import Item, ItemAvailability, Warehouse
from operations.services import case_resolve_many
from orders.models import Address, CustomerAccount, Order, OrderLine
from orders.services import (
    LINE_NUMBER_MAX,
    fulfilment_payload,
    order_hold_announce,
    release_blockers,
)

logger = logging.getLogger(__name__)

APPLIED = BatchOutcome.APPLIED
DEFERRED = BatchOutcome.DEFERRED
CUT = BatchOutcome.CUT

# Largest quantity an order line column holds (14 digits, 3 decimals).
_QUANTITY_LIMIT = Decimal(10) ** 11
_MALFORMED = (
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    ArithmeticError,
    InvalidOperation,
)


@dataclasses.dataclass
class _Decision:
    """One order of the run as it will be written."""

    number: str
    account: CustomerAccount
    data: dict[str, Any]
    lines: list[dict[str, Any]]
    warehouse: Warehouse | None
    ship_to: Address | None
    requested_date: dt.date | None
    reasons: list[str]


@dataclasses.dataclass
class _Run:
    """The master data a run names, read once, and availability as it goes."""

    existing: set[str]
    accounts: dict[str, CustomerAccount]
    items: dict[str, Item]
    warehouses: dict[str, Warehouse]
    addresses: dict[tuple[int, str], Address]
    factors: dict[tuple[int | None, str, int], Decimal]
    availability: dict[tuple[int, int], ItemAvailability]

    @classmethod
    def load(cls, payloads: list[dict[str, Any]]) -> _Run:
        numbers = _texts(data.get("order_number") for data in payloads)
        account_numbers = _texts(data.get("account_number") for data in payloads)
        all_lines = [
            line
            for data in payloads
            if isinstance(data.get("lines"), list)
            for line in data["lines"]
            if isinstance(line, dict)
        ]
        skus = _texts(line.get("sku") for line in all_lines)
        items = {
            item.sku: item
            for item in Item.objects.filter(sku__in=skus).select_related("base_unit")
        }
        accounts = {
            account.number: account
            for account in CustomerAccount.objects.filter(number__in=account_numbers)
        }
        warehouses = {
            warehouse.code: warehouse
            for warehouse in Warehouse.objects.filter(
                code__in=_texts(data.get("ship_from") for data in payloads)
            )
        }
        addresses = {
            (address.account_id, address.code): address
            for address in Address.objects.filter(
                account__in=accounts.values(),
                code__in=_texts(data.get("ship_to") for data in payloads),
            )
        }
        # Locked in primary-key order, as the one-by-one reservation does.
        availability = {
            (row.warehouse_id, row.item_id): row
            for row in ItemAvailability.objects.select_for_update()
            .filter(warehouse__in=warehouses.values(), item__in=items.values())
            .order_by("pk")
        }
        return cls(
            existing=set(
                Order.objects.filter(number__in=numbers).values_list(
                    "number", flat=True
                )
            ),
            accounts=accounts,
            items=items,
            warehouses=warehouses,
            addresses=addresses,
            factors=unit_factors_load(
                items.values(),
                unit_codes=_texts(line.get("unit") for line in all_lines),
            ),
            availability=availability,
        )

    def available(
        self, warehouse: Warehouse | None, lines: list[dict[str, Any]]
    ) -> dict[int, Decimal]:
        """Return item id to the quantity now available at a warehouse."""
        if warehouse is None:
            return {}
        rows = (
            self.availability.get((warehouse.pk, line["item"].pk)) for line in lines
        )
        return {row.item_id: row.quantity for row in rows if row is not None}


def orders_apply_released_many(*, payloads: list[dict[str, Any]]) -> list[str]:
    """Apply a run of ``order.released`` payloads; return an outcome for each.

    ``APPLIED``: the order was created and released or held. ``DEFERRED``:
    left for the one-by-one path, which will reject it. ``CUT`` for every
    payload from the first that must go one by one onwards. Expects the
    caller's transaction, holding the aggregate locks of every payload.
    """
    run = _Run.load(payloads)
    outcomes = [CUT] * len(payloads)
    decisions: list[_Decision] = []
    seen: set[str] = set()
    for index, data in enumerate(payloads):
        number = data.get("order_number")
        if isinstance(number, str) and (number in run.existing or number in seen):
            break
        if isinstance(number, str):
            seen.add(number)
        decision = _decide(data, run=run)
        if decision is None:
            outcomes[index] = DEFERRED
            continue
        outcomes[index] = APPLIED
        decisions.append(decision)
    if decisions:
        _write(decisions, run=run)
    return outcomes


def _texts(values: Any) -> set[str]:
    return {value for value in values if isinstance(value, str)}


def _decide(data: dict[str, Any], *, run: _Run) -> _Decision | None:
    """Decide one order as the one-by-one path would, or None to leave it to it."""
    account = run.accounts.get(data.get("account_number") or "")
    if account is None or not isinstance(data.get("order_number"), str):
        return None
    if not data.get("lines"):
        return None
    try:
        lines = _lines(data["lines"], run=run)
        requested = data.get("requested_date")
        requested_date = dt.date.fromisoformat(requested) if requested else None
    except _MALFORMED:
        return None
    if lines is None:
        return None
    warehouse = run.warehouses.get(data.get("ship_from") or "")
    reasons = release_blockers(
        account=account,
        warehouse=warehouse,
        ship_from_code=data.get("ship_from") or "(none)",
        requested_date=requested_date,
        lines=lines,
        available=run.available(warehouse, lines),
    )
    if not reasons:
        _reserve(warehouse, lines=lines, run=run)
    return _Decision(
        number=data["order_number"],
        account=account,
        data=data,
        lines=lines,
        warehouse=warehouse,
        ship_to=run.addresses.get((account.pk, data.get("ship_to") or "")),
        requested_date=requested_date,
        reasons=reasons,
    )


def _lines(raw_lines: list[Any], *, run: _Run) -> list[dict[str, Any]] | None:
    """Resolve items and base quantities, or None where the database would refuse."""
    lines = []
    for line in raw_lines:
        item = run.items.get(line.get("sku"))
        if item is None:
            return None
        quantity = quantity_to_base_with(
            item, Decimal(str(line["quantity"])), line, run.factors
        )
        line_number = int(line["line_number"])
        if quantity is None or not 0 < quantity < _QUANTITY_LIMIT:
            return None
        if not 0 <= line_number <= LINE_NUMBER_MAX:
            return None
        lines.append({"line_number": line_number, "item": item, "quantity": quantity})
    if len({line["line_number"] for line in lines}) != len(lines):
        return None
    return lines


def _reserve(warehouse: Warehouse, *, lines: list[dict[str, Any]], run: _Run) -> None:
    for line in lines:
        row = run.availability.get((warehouse.pk, line["item"].pk))
        if row is not None:
            row.quantity -= line["quantity"]


def _write(decisions: list[_Decision], *, run: _Run) -> None:
    """Write the decided orders, lines, reservations and messages set-based."""
    now = timezone.now()
    orders = Order.objects.bulk_create(
        Order(
            account=decision.account,
            number=decision.number,
            po_number=decision.data.get("po_number") or "",
            status=Order.Status.ON_HOLD if decision.reasons else Order.Status.RELEASED,
            ship_from=decision.warehouse,
            ship_to=decision.ship_to,
            requested_date=decision.requested_date,
            hold_reasons=decision.reasons,
            released_at=None if decision.reasons else now,
        )
        for decision in decisions
    )
    lines_by_order = {
        order.number: [
            OrderLine(
                order=order,
                line_number=line["line_number"],
                item=line["item"],
                quantity=line["quantity"],
                unit_id=line["item"].base_unit_id,
            )
            for line in sorted(decision.lines, key=lambda line: line["line_number"])
        ]
        for order, decision in zip(orders, decisions, strict=True)
    }
    OrderLine.objects.bulk_create(
        line for lines in lines_by_order.values() for line in lines
    )
    ItemAvailability.objects.bulk_update(run.availability.values(), ["quantity"])

    released = [order for order in orders if not order.hold_reasons]
    _request_fulfilment(released, lines_by_order=lines_by_order, now=now)
    case_resolve_many(dedupe_keys=[f"hold:{order.number}" for order in released])
    for order in orders:
        if order.hold_reasons:
            order_hold_announce(order, reasons=order.hold_reasons)
        else:
            logger.info(
                "order released to WMS",
                extra={"order_number": order.number, "correlation_id": order.number},
            )


def _request_fulfilment(
    orders: list[Order],
    *,
    lines_by_order: dict[str, list[OrderLine]],
    now: dt.datetime,
) -> None:
    """Write one WMS fulfilment request per released order; queue each on commit."""
    if not orders:
        return
    wms = Connection.objects.get(code="wms")
    messages = OutboxMessage.objects.bulk_create(
        OutboxMessage(
            destination=wms,
            type="fulfilment.requested",
            subject=order.number,
            payload=fulfilment_payload(order, lines=lines_by_order[order.number]),
            idempotency_key=f"fulfilment.requested:{order.number}",
            correlation_id=order.number,
            next_attempt_at=now,
            queued_at=now,
        )
        for order in orders
    )

    transaction.on_commit(lambda: outbox_queue_dispatch_many(messages=messages))
