"""Units and rounding: Decimal all the way, half-up, base units stored."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from masterdata.models import Item
from masterdata.units import UnitError, exact_decimal, round_half_up, weight_in_kg
from operations.demo import demo_order
from orders.models import OrderLine
from orders.services import quantity_from_base
from tests.integrations.events import cloudevent
from tests.integrations.helpers import deliver


def test_grams_to_kilograms_at_two_places_rounds_half_up_not_up():
    assert weight_in_kg(Decimal("1234"), "G", places=2) == Decimal("1.23")
    assert weight_in_kg(Decimal("1235"), "G", places=2) == Decimal("1.24")
    assert weight_in_kg(Decimal("1"), "LB", places=4) == Decimal("0.4536")


def test_an_unknown_weight_unit_is_refused_with_the_known_ones():
    with pytest.raises(UnitError, match="weight unit 'ST' is not one of G, KG, LB, OZ"):
        weight_in_kg(Decimal("1"), "ST")


def test_a_float_is_refused_and_a_json_decimal_keeps_its_digits():
    parsed = json.loads('{"q": 1800.0000000000016}', parse_float=Decimal)

    assert exact_decimal(parsed["q"]) == Decimal("1800.0000000000016")
    assert round_half_up(exact_decimal(parsed["q"]), 2) == Decimal("1800.00")
    with pytest.raises(UnitError):
        exact_decimal(1800.0000000000016)


def _release_and_pack(number: str, *, ordered: tuple[str, str], shipped: bytes) -> None:
    data = demo_order(number=number, account_number="ACME", index=0)
    data["lines"] = [
        {"line_number": 1, "sku": "SKU-A", "quantity": ordered[0], "unit": ordered[1]}
    ]
    deliver(
        "erp",
        cloudevent(
            "order.released",
            number,
            data,
            source="erp/sim",
            time="2025-03-01T10:00:00Z",
        ),
    )
    envelope = cloudevent(
        "shipment.packed",
        f"SH-{number}",
        {
            "order_number": number,
            "shipment_number": f"SH-{number}",
            "ship_from": "DC-EAST",
            "packages": [],
            "lines": "__LINES__",
        },
        source="wms/sim",
        time="2025-03-01T12:00:00Z",
    )
    raw = json.dumps(envelope).replace('"__LINES__"', shipped.decode()).encode()
    deliver("wms", raw)


@pytest.mark.django_db
def test_cases_ordered_and_eaches_shipped_leave_an_exact_shortfall(seeded):
    _release_and_pack(
        "SO-CS", ordered=("5", "CS"), shipped=b'[{"line_number": 1, "quantity": 59}]'
    )

    line = OrderLine.objects.get(order__number="SO-CS")
    assert (line.quantity, line.unit.code) == (Decimal("60.000"), "EA")
    assert line.shipped_quantity == Decimal("59")
    assert line.short_quantity == Decimal("1")
    in_cases = quantity_from_base(
        item=line.item, quantity=line.shipped_quantity, unit_code="CS"
    )
    assert in_cases == Decimal("4.9167")
    line.refresh_from_db()
    assert line.shipped_quantity == Decimal("59.000")


@pytest.mark.django_db
def test_a_json_quantity_with_float_noise_is_stored_as_an_exact_decimal(seeded):
    _release_and_pack(
        "SO-FL",
        ordered=("1800", "EA"),
        shipped=b'[{"line_number": 1, "quantity": 1800.0000000000016}]',
    )

    line = OrderLine.objects.get(order__number="SO-FL")
    assert isinstance(line.shipped_quantity, Decimal)
    assert line.shipped_quantity == Decimal("1800.00")
    assert line.short_quantity == Decimal("0")
    assert Item.objects.get(sku="SKU-A").base_unit.code == "EA"
