"""Runs of order releases applied together give what one-by-one application gives.

``inbound_messages_process`` applies consecutive ERP order releases with a
statement per table (``orders.bulk``). These tests hold it to the one-by-one
path on the same messages, compared over everything a person or a system can
see: orders and lines, availability, outbox rows, message states and errors,
stored events and cases.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import (
    CanonicalEvent,
    Connection,
    InboundMessage,
    OutboxMessage,
)
from integrations.services import (
    inbound_batch_accept,
    inbound_message_process,
    inbound_messages_process,
)
from masterdata.models import ItemAvailability
from operations.models import ExceptionCase
from orders.models import CustomerAccount, Order
from tests.integrations.events import cloudevent

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    """Raised to undo a block after reading what it did."""


def _release(number: str, *, event_id: str, **fields) -> dict:
    data = {
        "order_number": number,
        "account_number": "ACME",
        "po_number": f"PO-{number}",
        "ship_from": "DC-EAST",
        "ship_to": "MAIN",
        "requested_date": (dt.date.today() + dt.timedelta(days=7)).isoformat(),
        "lines": [{"line_number": 1, "sku": "SKU-A", "quantity": "1", "unit": "EA"}],
        **fields,
    }
    return cloudevent(
        "order.released",
        number,
        data,
        source="erp/sim",
        time="2026-03-01T10:00:00+00:00",
        id=event_id,
        correlationid=number,
    )


def _accept(envelopes: list[dict]) -> list[int]:
    """Store the envelopes as one bulk batch; return the new messages' ids."""
    results = inbound_batch_accept(
        connection=Connection.objects.get(code="erp"),
        items=[
            (f"m-{index}", json.dumps(envelope).encode())
            for index, envelope in enumerate(envelopes)
        ],
    )
    return sorted({result["message_id"] for result in results})


def _seen() -> dict:
    """Return everything the two paths must agree on, by natural keys."""
    return {
        "orders": sorted(
            (
                order.number,
                order.status,
                tuple(order.hold_reasons),
                order.po_number,
                str(order.requested_date),
                order.ship_from_id,
                order.ship_to_id,
                order.released_at is not None,
                tuple(
                    (line.line_number, line.item.sku, str(line.quantity), line.unit_id)
                    for line in order.lines.all()
                ),
            )
            for order in Order.objects.prefetch_related("lines__item")
        ),
        "availability": sorted(
            ItemAvailability.objects.values_list(
                "item__sku", "warehouse__code", "quantity"
            )
        ),
        "outbox": sorted(
            (
                message.destination.code,
                message.type,
                message.idempotency_key,
                json.dumps(message.payload, sort_keys=True),
                message.correlation_id,
                message.state,
            )
            for message in OutboxMessage.objects.select_related("destination")
        ),
        "messages": sorted(
            InboundMessage.objects.values_list(
                "pk", "state", "error", "blocked_by", "correlation_id"
            )
        ),
        "events": sorted(
            CanonicalEvent.objects.values_list(
                "source", "event_id", "type", "state", "error", "inbound_message_id"
            )
        ),
        "cases": sorted(
            ExceptionCase.objects.values_list(
                "dedupe_key", "kind", "state", "title", "detail", "order__number"
            )
        ),
    }


def _outcome(process) -> dict:
    try:
        with transaction.atomic():
            process()
            seen = _seen()
            raise _Rollback
    except _Rollback:
        return seen


def _one_by_one(ids: list[int]) -> dict:
    return _outcome(lambda: [inbound_message_process(message_id=pk) for pk in ids])


def _together(ids: list[int]) -> dict:
    return _outcome(lambda: inbound_messages_process(message_ids=ids))


def test_a_mixed_run_ends_exactly_as_one_by_one_application(seeded):
    ItemAvailability.objects.filter(item__sku="SKU-A").update(quantity=Decimal(5))
    Order.objects.create(
        number="SO-OLD",
        account=CustomerAccount.objects.get(number="ACME"),
        status=Order.Status.ON_HOLD,
        hold_reasons=["insufficient availability"],
    )
    one_line = [{"line_number": 1, "sku": "SKU-A", "quantity": "2", "unit": "EA"}]
    ids = _accept(
        [
            _release("SO-1", event_id="e1", lines=one_line),
            _release("SO-2", event_id="e2", account_number="NWND"),
            _release(
                "SO-3",
                event_id="e3",
                lines=[
                    {"line_number": 1, "sku": "SKU-NOPE", "quantity": "1", "unit": "EA"}
                ],
            ),  # fmt: skip
            _release("SO-4", event_id="e4", requested_date="2026-02-30"),
            _release("SO-OLD", event_id="e5", lines=one_line),
            _release("SO-5", event_id="e6", lines=one_line),
            _release("SO-1", event_id="e7", lines=one_line),
            _release(
                "SO-6",
                event_id="e8",
                lines=[
                    {"line_number": 1, "sku": "SKU-B", "quantity": "2", "unit": "CS"},
                    {"line_number": 2, "sku": "SKU-A", "quantity": "1", "unit": "EA"},
                ],
            ),  # fmt: skip
            _release("SO-7", event_id="e9", lines=one_line),
        ]
    )

    together = _together(ids)

    assert together == _one_by_one(ids)
    ours = {"SO-1", "SO-2", "SO-OLD", "SO-5", "SO-6", "SO-7", "SO-3", "SO-4"}
    statuses = {
        row[0]: (row[1], row[2]) for row in together["orders"] if row[0] in ours
    }
    # SO-1 and SO-OLD take 4 of the 5; SO-5 then finds 1 and waits, SO-6
    # takes the last one, and SO-7 finds none.
    assert statuses == {
        "SO-1": ("released", ()),
        "SO-2": ("on_hold", ("credit hold on account NWND",)),
        "SO-OLD": ("released", ()),
        "SO-5": (
            "on_hold",
            ("insufficient availability for SKU-A at DC-EAST: need 2, available 1",),
        ),
        "SO-6": ("released", ()),
        "SO-7": (
            "on_hold",
            ("insufficient availability for SKU-A at DC-EAST: need 2, available 0",),
        ),
    }
    states = [row[1] for row in together["messages"]]
    assert states.count("needs_attention") == 2  # SO-3's item, SO-4's date


order_specs = st.fixed_dictionaries(
    {
        "number": st.sampled_from(["SO-1", "SO-2", "SO-3", "SO-4", "SO-5"]),
        "event": st.integers(0, 12),
        "account": st.sampled_from(["ACME", "ACME", "NWND", "NOPE"]),
        "ship_from": st.sampled_from(["DC-EAST", "DC-EAST", "DC-WEST", "DC-NOPE"]),
        "days": st.sampled_from([7, 7, -3, None]),
        "lines": st.lists(
            st.tuples(
                st.integers(1, 3),
                st.sampled_from(["SKU-A", "SKU-B", "SKU-NOPE"]),
                st.integers(0, 9),
                st.sampled_from(["EA", "EA", "CS", "KG"]),
            ),
            min_size=0,
            max_size=3,
        ),
    }
)


def _envelope(spec: dict) -> dict:
    days = spec["days"]
    return _release(
        spec["number"],
        event_id=f"e{spec['event']}",
        account_number=spec["account"],
        ship_from=spec["ship_from"],
        requested_date=None
        if days is None
        else (dt.date.today() + dt.timedelta(days=days)).isoformat(),
        lines=[
            {"line_number": number, "sku": sku, "quantity": str(quantity), "unit": unit}
            for number, sku, quantity, unit in spec["lines"]
        ],
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(specs=st.lists(order_specs, min_size=1, max_size=14))
def test_any_run_of_releases_ends_as_one_by_one_application(seeded, specs):
    """Repeated orders and events, holds, shortages and rejects, in any mix."""
    try:
        with transaction.atomic():
            ItemAvailability.objects.filter(item__sku="SKU-A").update(
                quantity=Decimal(20)
            )
            ids = _accept([_envelope(spec) for spec in specs])
            together = _together(ids)
            one_by_one = _one_by_one(ids)
            raise _Rollback
    except _Rollback:
        pass

    assert together == one_by_one


def test_a_run_costs_the_same_statements_whatever_its_length(seeded):
    def statements(count: int, prefix: str) -> int:
        ids = _accept(
            [
                _release(f"{prefix}-{index}", event_id=f"{prefix}-{index}")
                for index in range(count)
            ]
        )
        with CaptureQueriesContext(connection) as queries:
            inbound_messages_process(message_ids=ids)
        assert set(
            InboundMessage.objects.filter(pk__in=ids).values_list("state", flat=True)
        ) == {"processed"}
        return len(queries)

    assert statements(10, "S") == statements(100, "L") <= 30


def test_a_failing_set_based_write_falls_back_to_one_by_one(seeded):
    # A fulfilment request left over from an earlier life of the order: the
    # set-based insert collides with it, the one-by-one path takes it as sent.
    OutboxMessage.objects.create(
        destination=Connection.objects.get(code="wms"),
        type="fulfilment.requested",
        subject="SO-2",
        payload={},
        idempotency_key="fulfilment.requested:SO-2",
        next_attempt_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    ids = _accept([_release(f"SO-{n}", event_id=f"e{n}") for n in (1, 2, 3)])

    inbound_messages_process(message_ids=ids)

    assert (
        list(InboundMessage.objects.filter(pk__in=ids).values_list("state", flat=True))
        == ["processed"] * 3
    )
    assert sorted(
        Order.objects.filter(number__in=["SO-1", "SO-2", "SO-3"]).values_list(
            "number", "status"
        )
    ) == [
        ("SO-1", "released"),
        ("SO-2", "released"),
        ("SO-3", "released"),
    ]
    assert OutboxMessage.objects.filter(type="fulfilment.requested").count() == 3


def test_one_payload_the_database_would_refuse_leaves_the_rest_set_based(seeded):
    too_far = [{"line_number": 10**12, "sku": "SKU-A", "quantity": "1", "unit": "EA"}]
    envelopes = [_release(f"SO-{n}", event_id=f"e{n}") for n in range(20)]
    envelopes[10] = _release("SO-10", event_id="e10", lines=too_far)
    ids = _accept(envelopes)

    with CaptureQueriesContext(connection) as queries:
        inbound_messages_process(message_ids=ids)

    states = dict(
        InboundMessage.objects.filter(pk__in=ids).values_list("message_id", "state")
    )
    assert [states[f"m-{n}"] for n in range(20)] == ["processed"] * 10 + [
        "needs_attention"
    ] + ["processed"] * 9
    # One set-based run plus the refused message alone, not twenty one by one.
    assert len(queries) <= 60
