"""Property: any interleaving, repetition and delay of a milestone stream projects the same."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import OutboxMessage
from tests.integrations.helpers import deliver
from tests.integrations.shipping import shipment_in_flight

pytestmark = pytest.mark.django_db

# A realistic stream in event-time order, including an exception that a
# later milestone clears and an estimate that only moves the ETA.
STREAM = [
    ("PU", "2025-03-03T08:00:00Z"),
    ("IT", "2025-03-03T22:00:00Z"),
    ("DLY", "2025-03-04T02:00:00Z"),
    ("IT", "2025-03-04T09:00:00Z"),
    ("OFD", "2025-03-05T08:10:00Z"),
    ("DLV", "2025-03-05T18:02:00Z"),
]
_numbers = itertools.count(1)


def project(arrivals: list[int]) -> tuple:
    """Deliver the stream's events in the given order; return what the hub shows."""
    number = next(_numbers)
    tracking = f"PROP{number}"
    shipment = shipment_in_flight(f"SH-P{number}", tracking=tracking)
    for index in arrivals:
        code, occurred_at = STREAM[index]
        event = {"id": f"e{index}", "code": code, "occurred_at": occurred_at}
        deliver("carrier-crx", {"tracking_number": tracking, "events": [event]})
    shipment.refresh_from_db()
    history = list(
        shipment.events.order_by("occurred_at", "id").values_list(
            "status", "occurred_at"
        )
    )
    sent = [
        message.payload["status"]
        for message in OutboxMessage.objects.filter(
            subject=shipment.number, type="shipment.status_changed"
        ).order_by("pk")
    ]
    return (
        shipment.status,
        shipment.delivered_at,
        shipment.last_actual_at,
        history,
        sent,
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    arrivals=st.permutations(range(len(STREAM)))
    .flatmap(
        lambda order: st.lists(st.sampled_from(order), max_size=4).map(
            lambda extra: list(order) + extra
        )
    )
    .flatmap(st.permutations)
)
def test_any_arrival_order_with_duplicates_gives_the_in_order_projection(
    seeded, arrivals
):
    expected_status, delivered_at, last_actual, history, _ = project(
        list(range(len(STREAM)))
    )

    status, got_delivered, got_last, got_history, sent = project(arrivals)

    assert (status, got_delivered, got_last) == (
        expected_status,
        delivered_at,
        last_actual,
    )
    assert [s for s, _ in got_history] == [s for s, _ in history]
    assert status == "delivered"
    assert sent.count("delivered") == 1
    assert sent[-1] == "delivered"  # the ERP never hears of a step back
