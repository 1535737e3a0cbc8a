"""order.released: validation, hold reasons, the fulfilment request."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from integrations.models import OutboxMessage
from masterdata.models import ItemAvailability
from operations.demo import demo_order
from operations.models import ExceptionCase
from orders.models import Order
from tests.integrations.events import cloudevent
from tests.integrations.helpers import deliver

pytestmark = pytest.mark.django_db


def released(data: dict) -> dict:
    return cloudevent(
        "order.released",
        data["order_number"],
        data,
        source="erp/sim",
        time="2025-03-01T10:00:00+00:00",
        correlationid=data["order_number"],
    )


def test_valid_order_is_released_and_sent_to_the_wms(seeded):
    data = demo_order(number="SO-1", account_number="ACME", index=1)

    message = deliver("erp", released(data))

    order = Order.objects.get(number="SO-1")
    outbox = OutboxMessage.objects.get()
    assert message.state == "processed"
    assert order.status == "released"
    assert order.hold_reasons == []
    assert [
        (line.line_number, line.item.sku, line.quantity) for line in order.lines.all()
    ] == [
        (1, "SKU-B", Decimal("2.000")),
        (2, "SKU-C", Decimal("36.000")),
    ]
    assert (outbox.destination.code, outbox.type, outbox.subject) == (
        "wms",
        "fulfilment.requested",
        "SO-1",
    )
    assert outbox.payload["lines"][1] == {
        "line_number": 2,
        "sku": "SKU-C",
        "quantity": "36.000",
        "unit": "EA",
    }


def test_order_of_an_account_on_credit_hold_is_held_with_a_case(seeded):
    data = demo_order(number="SO-2", account_number="NWND", index=0)

    deliver("erp", released(data))

    order = Order.objects.get(number="SO-2")
    case = ExceptionCase.objects.get(kind="order_hold")
    assert order.status == "on_hold"
    assert order.hold_reasons == ["credit hold on account NWND"]
    assert case.title == "Order SO-2 held: credit hold on account NWND"
    assert list(OutboxMessage.objects.values_list("destination__code", "type")) == [
        ("erp", "order.held")
    ]


def test_every_failed_check_is_listed_as_a_hold_reason(seeded):
    ItemAvailability.objects.filter(item__sku="SKU-A").update(quantity=Decimal("1"))
    data = demo_order(number="SO-3", account_number="ACME", index=0)
    data["requested_date"] = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    data["lines"] = [{"line_number": 1, "sku": "SKU-A", "quantity": "4", "unit": "EA"}]

    deliver("erp", released(data))

    assert Order.objects.get(number="SO-3").hold_reasons == [
        f"requested date {data['requested_date']} is in the past",
        "insufficient availability for SKU-A at DC-EAST: need 4, available 1",
    ]


def test_unknown_ship_from_warehouse_holds_the_order(seeded):
    data = {
        **demo_order(number="SO-4", account_number="ACME", index=0),
        "ship_from": "DC-MOON",
    }

    deliver("erp", released(data))

    assert Order.objects.get(number="SO-4").hold_reasons == [
        "unknown or inactive ship-from warehouse DC-MOON"
    ]


def test_unknown_item_puts_the_message_in_needs_attention_and_creates_no_order(seeded):
    data = demo_order(number="SO-5", account_number="ACME", index=0)
    data["lines"][0]["sku"] = "SKU-NOPE"

    message = deliver("erp", released(data))

    assert message.state == "needs_attention"
    assert message.error == "order.released SO-5: unknown item SKU-NOPE"
    assert not Order.objects.filter(number="SO-5").exists()
    assert ExceptionCase.objects.get().kind == "unknown_reference"


def test_release_reserves_availability_for_the_next_order(seeded):
    data = demo_order(number="SO-6", account_number="ACME", index=0)

    deliver("erp", released(data))

    row = ItemAvailability.objects.get(item__sku="SKU-A", warehouse__code="DC-EAST")
    assert row.quantity == Decimal("100000") - Decimal("1")


def test_same_release_applied_twice_changes_nothing(seeded):
    event = released(demo_order(number="SO-7", account_number="ACME", index=0))

    deliver("erp", event, message_id="a")
    second = deliver("erp", {**event, "extra": 1}, message_id="b")

    assert second.state == "processed"
    assert OutboxMessage.objects.count() == 1
    assert ItemAvailability.objects.get(
        item__sku="SKU-A", warehouse__code="DC-EAST"
    ).quantity == Decimal("99999")


@pytest.mark.parametrize(
    "change,error",
    [
        ({"requested_date": "2025-13-45"}, "ValueError: month must be in 1..12"),
        ({"lines": "abc"}, "AttributeError: 'str' object has no attribute 'get'"),
        (
            {"lines": [{"line_number": 1, "sku": "SKU-A", "quantity": "abc"}]},
            "InvalidOperation",
        ),
    ],
)
def test_bad_values_wait_in_needs_attention_with_a_reason_not_failed(
    seeded, change, error
):
    data = {**demo_order(number="SO-BAD", account_number="ACME", index=0), **change}

    message = deliver("erp", released(data))

    assert message.state == "needs_attention"
    assert message.attempts == 1
    assert message.error.startswith("order.released SO-BAD: invalid data (")
    assert error in message.error
    assert not Order.objects.filter(number="SO-BAD").exists()


@pytest.mark.parametrize("quantity", ["0", "-5"])
def test_zero_quantity_and_repeated_line_numbers_are_refused_readably(seeded, quantity):
    data = demo_order(number="SO-Z", account_number="ACME", index=1)
    data["lines"] = [
        {"line_number": 1, "sku": "SKU-A", "quantity": quantity, "unit": "EA"}
    ]
    zero = deliver("erp", released(data))
    data = demo_order(number="SO-R", account_number="ACME", index=1)
    data["lines"] = [
        {"line_number": 1, "sku": "SKU-A", "quantity": "1", "unit": "EA"},
        {"line_number": 1, "sku": "SKU-B", "quantity": "1", "unit": "EA"},
    ]
    repeated = deliver("erp", released(data))

    assert (zero.state, zero.error) == (
        "needs_attention",
        "order.released SO-Z: line 1 quantity must be greater than zero",
    )
    assert (repeated.state, repeated.error) == (
        "needs_attention",
        "order.released SO-R: order has repeated line numbers",
    )
    assert not Order.objects.filter(number__in=["SO-Z", "SO-R"]).exists()


def test_hold_reasons_print_large_quantities_in_plain_digits(seeded):
    ItemAvailability.objects.filter(item__sku="SKU-A").update(quantity=Decimal(5000))
    data = demo_order(number="SO-BIG", account_number="ACME", index=0)
    data["lines"] = [
        {"line_number": 1, "sku": "SKU-A", "quantity": "60000", "unit": "EA"}
    ]

    deliver("erp", released(data))

    assert Order.objects.get(number="SO-BIG").hold_reasons == [
        "insufficient availability for SKU-A at DC-EAST: need 60000, available 5000"
    ]


@pytest.mark.parametrize(
    "raw,error",
    [
        (b'"quantity": NaN', "body is not JSON: NaN is not a JSON value"),
        (b'"quantity": -Infinity', "body is not JSON: -Infinity is not a JSON value"),
        (b'"quantity": "1\\u0000"', "body holds a NUL character (\\u0000)"),
    ],
)
def test_values_json_cannot_store_wait_for_a_person_not_a_retry(seeded, raw, error):
    data = demo_order(number="SO-NAN", account_number="ACME", index=0)
    data["lines"] = [{"line_number": 1, "sku": "SKU-A", "quantity": "@", "unit": "EA"}]
    body = json.dumps(released(data)).encode().replace(b'"quantity": "@"', raw)

    message = deliver("erp", body)

    assert (message.state, message.attempts) == ("needs_attention", 1)
    assert message.error == error


def test_a_line_number_beyond_the_column_is_refused_readably(seeded):
    data = demo_order(number="SO-LN", account_number="ACME", index=0)
    data["lines"] = [
        {"line_number": 10**12, "sku": "SKU-A", "quantity": "1", "unit": "EA"}
    ]

    message = deliver("erp", released(data))

    assert (message.state, message.error) == (
        "needs_attention",
        "order.released SO-LN: line number 1000000000000 is out of range",
    )
