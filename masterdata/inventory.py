"""Availability from the WMS: whole snapshots and stock receipts.

``ItemAvailability`` holds, per item and warehouse, the WMS's last figure
minus what the hub reserved for orders since (``orders.services``). A
snapshot replaces the figure; a receipt adds to it. Quantities are kept in
each item's base unit.

Where a snapshot disagrees with the figure the hub held, an
``inventory_variance`` case is opened per item and warehouse (one open case
each, updated by later snapshots, resolved when one agrees): shrinkage,
damage or a cycle count shows up there. Orders the hub released that the
WMS has not allocated yet also show as a difference until the next
snapshot, so a case asks for a look, not for a correction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from integrations.errors import EventRejected
from masterdata.models import Item, ItemAvailability, UnitConversion, Warehouse
from operations.models import ExceptionCase
from operations.services import case_open, case_resolve

logger = logging.getLogger(__name__)

QUANTITY = Decimal("0.001")


def inventory_apply_snapshot(*, data: dict[str, Any]) -> dict[str, int]:
    """Replace availability at a warehouse with the WMS's snapshot.

    A snapshot older than an item's current figure leaves that item alone,
    so snapshots arriving out of order never move availability back.
    Items or units the hub does not know are left out and listed in one
    case per warehouse; the rest is applied, since a snapshot is complete
    for each item it names. Reads and writes in a constant number of
    queries, whatever the snapshot's size, plus one case per variance.
    Returns counts of created, updated, stale and skipped items.
    """
    warehouse = _warehouse(data.get("warehouse"))
    as_of = dt.datetime.fromisoformat(data["as_of"])
    lines = data.get("items") or []
    quantities, unknown = _base_quantities(lines)

    rows = _locked_rows(warehouse, item_ids=[item.pk for item in quantities])
    counts = {"created": 0, "updated": 0, "stale": 0, "skipped": len(unknown)}
    new, changed, agreed, variances = [], [], [], []
    for item, quantity in quantities.items():
        row = rows.get(item.pk)
        if row is None:
            new.append(_row(item, warehouse, quantity=quantity, as_of=as_of))
            continue
        if row.as_of >= as_of:
            counts["stale"] += 1
            continue
        if row.quantity == quantity:
            agreed.append(item)
        else:
            variances.append((item, row.quantity, quantity))
        row.quantity, row.as_of = quantity, as_of
        changed.append(row)
    ItemAvailability.objects.bulk_create(new)
    ItemAvailability.objects.bulk_update(changed, ["quantity", "as_of"])
    counts["created"], counts["updated"] = len(new), len(changed)

    _record_variances(warehouse, variances=variances, agreed=agreed)
    _record_unknown(warehouse, unknown=unknown)
    return counts


def inventory_apply_receipt(*, data: dict[str, Any]) -> list[ItemAvailability]:
    """Add received stock to availability at a warehouse.

    A receipt is a change, not a state, so it is applied whole or not at
    all: an unknown item or unit rejects it for a replay once fixed, and a
    replay can never count a line twice. A line received before the
    item's last snapshot is already in that snapshot and is not added. The
    figure's ``as_of`` stays the time of the WMS's last snapshot.
    """
    warehouse = _warehouse(data.get("warehouse"))
    received_at = dt.datetime.fromisoformat(data["received_at"])
    quantities, unknown = _base_quantities(data.get("lines") or [])
    if unknown:
        raise EventRejected("unknown_reference", "; ".join(unknown))

    rows = _locked_rows(warehouse, item_ids=[item.pk for item in quantities])
    new, changed = [], []
    for item, quantity in quantities.items():
        row = rows.get(item.pk)
        if row is None:
            new.append(_row(item, warehouse, quantity=quantity, as_of=received_at))
        elif row.as_of < received_at:
            row.quantity += quantity
            changed.append(row)
    ItemAvailability.objects.bulk_create(new)
    ItemAvailability.objects.bulk_update(changed, ["quantity"])

    return [*new, *changed]


def _warehouse(code: Any) -> Warehouse:
    warehouse = Warehouse.objects.filter(code=code or "").first()
    if warehouse is None:
        raise EventRejected("unknown_reference", f"unknown warehouse {code}")
    return warehouse


def _row(
    item: Item, warehouse: Warehouse, *, quantity: Decimal, as_of: dt.datetime
) -> ItemAvailability:
    return ItemAvailability(
        item=item, warehouse=warehouse, quantity=quantity, as_of=as_of
    )


def _locked_rows(
    warehouse: Warehouse, *, item_ids: list[int]
) -> dict[int, ItemAvailability]:
    """Return the availability rows of these items, locked in primary-key order.

    The same order as ``orders.services._reserve`` takes them, so a snapshot
    and an order release touching the same items cannot deadlock.
    """
    rows = (
        ItemAvailability.objects.select_for_update()
        .filter(warehouse=warehouse, item_id__in=item_ids)
        .order_by("pk")
    )
    return {row.item_id: row for row in rows}


def _base_quantities(
    lines: list[dict[str, Any]],
) -> tuple[dict[Item, Decimal], list[str]]:
    """Return each known item's total quantity in its base unit, and what failed.

    Lines of the same item add up. Reads the items and the conversions in
    two queries.
    """
    skus = {line.get("sku") for line in lines}
    items = {
        item.sku: item
        for item in Item.objects.filter(sku__in=skus).select_related("base_unit")
    }
    factors = unit_factors_load(
        items.values(), unit_codes={line.get("unit") or "" for line in lines}
    )
    totals: dict[Item, Decimal] = {}
    failed: list[str] = []
    for line in lines:
        item = items.get(line.get("sku"))
        if item is None:
            failed.append(f"unknown item {line.get('sku')}")
            continue
        quantity = quantity_to_base_with(
            item, Decimal(str(line["quantity"])), line, factors
        )
        if quantity is None:
            failed.append(
                f"no conversion from {line.get('unit')} to "
                f"{item.base_unit.code} for {item.sku}"
            )
            continue
        totals[item] = totals.get(item, Decimal(0)) + quantity
    return totals, failed


def unit_factors_load(
    items: Iterable[Item], *, unit_codes: set[str]
) -> dict[tuple[int | None, str, int], Decimal]:
    """Map (item id or None, from unit code, to unit id) to a factor."""
    item_ids = [item.pk for item in items]
    rows = UnitConversion.objects.filter(
        from_unit__code__in=unit_codes, item_id__in=item_ids
    ) | UnitConversion.objects.filter(from_unit__code__in=unit_codes, item__isnull=True)
    return {
        (row.item_id, row.from_unit.code, row.to_unit_id): row.factor
        for row in rows.select_related("from_unit")
    }


def quantity_to_base_with(
    item: Item,
    quantity: Decimal,
    line: dict[str, Any],
    factors: dict[tuple[int | None, str, int], Decimal],
) -> Decimal | None:
    """Convert like ``orders.services.quantity_to_base``, from preloaded factors."""
    unit = line.get("unit")
    if unit and unit != item.base_unit.code:
        factor = factors.get((item.pk, unit, item.base_unit_id)) or factors.get(
            (None, unit, item.base_unit_id)
        )
        if factor is None:
            return None
        quantity *= factor
    return quantity.quantize(QUANTITY, rounding=ROUND_HALF_UP)


def _variance_key(warehouse: Warehouse, item: Item) -> str:
    return f"inventory_variance:{warehouse.code}:{item.sku}"


def _record_variances(
    warehouse: Warehouse,
    *,
    variances: list[tuple[Item, Decimal, Decimal]],
    agreed: list[Item],
) -> None:
    """Open a case per disagreeing item; resolve the cases of agreeing ones."""
    if agreed:
        keys = [_variance_key(warehouse, item) for item in agreed]
        ExceptionCase.objects.filter(
            dedupe_key__in=keys, state=ExceptionCase.State.OPEN
        ).update(state=ExceptionCase.State.RESOLVED, resolved_at=timezone.now())
    for item, held, reported in variances:
        difference = reported - held
        case_open(
            kind="inventory_variance",
            dedupe_key=_variance_key(warehouse, item),
            title=(
                f"Inventory variance for {item.sku} at {warehouse.code}: hub held "
                f"{held.normalize():f}, WMS reports {reported.normalize():f} "
                f"({difference.normalize():+f})"
            ),
            reason_code="inventory_variance",
        )
    if variances:
        logger.info(
            "inventory snapshot at %s differs for %s items",
            warehouse.code,
            len(variances),
        )


def _record_unknown(warehouse: Warehouse, *, unknown: list[str]) -> None:
    key = f"inventory_unknown:{warehouse.code}"
    if not unknown:
        case_resolve(dedupe_key=key)
        return
    case_open(
        kind="unknown_reference",
        dedupe_key=key,
        title=(
            f"Inventory snapshot at {warehouse.code}: {len(unknown)} lines left "
            f"out ({unknown[0]})"
        ),
        detail="\n".join(unknown),
        reason_code="unknown_reference",
    )
