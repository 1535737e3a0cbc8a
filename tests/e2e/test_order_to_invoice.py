"""One order from ERP release to invoice, through real processes over HTTP."""

from __future__ import annotations

import pytest
import requests

from integrations.models import InboundMessage, OutboxMessage
from operations.demo import demo_order
from orders.models import Order
from shipments.models import STATUS_RANK, Document, Shipment
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e


def control(stack, code: str, verb: str, body: dict) -> None:
    requests.post(
        f"{stack.sim_url(code)}/_control/{verb}", json=body, timeout=10
    ).raise_for_status()


def order_status(number: str) -> str | None:
    return Order.objects.filter(number=number).values_list("status", flat=True).first()


def test_released_order_travels_to_invoiced_through_worker_and_simulators(stack):
    order = demo_order(number="SO-E2E-1", account_number="ACME", index=0)
    seen: list[str] = []

    control(stack, "erp", "orders", {"orders": [order]})

    def reached_invoiced():
        status = order_status("SO-E2E-1")
        if status and (not seen or seen[-1] != status):
            seen.append(status)
        return status == "invoiced"

    wait_for(
        reached_invoiced, timeout=120, interval=0.05, what="the order to be invoiced"
    )
    wait_for(
        lambda: not OutboxMessage.objects.filter(state="pending").exists(),
        timeout=60,
        what="the outbox to drain",
    )
    shipment = Shipment.objects.get(order__number="SO-E2E-1")
    outbox = list(
        OutboxMessage.objects.filter(correlation_id="SO-E2E-1")
        .order_by("created_at", "id")
        .values_list("destination__code", "type", "state")
    )
    statuses = list(
        shipment.events.order_by("occurred_at").values_list("status", flat=True)
    )
    assert seen[-1] == "invoiced"
    assert set(seen) <= {
        "released",
        "allocated",
        "picking",
        "packed",
        "shipped",
        "delivered",
        "invoiced",
    }
    assert seen == sorted(
        seen,
        key=[
            "released",
            "allocated",
            "picking",
            "packed",
            "shipped",
            "delivered",
            "invoiced",
        ].index,
    )
    assert shipment.status == "delivered"
    assert shipment.carrier is not None and shipment.tracking_numbers
    assert statuses[-1] == "delivered"
    assert {
        kind
        for kind in Document.objects.filter(order__number="SO-E2E-1").values_list(
            "kind", flat=True
        )
    } == {
        "pod",
        "invoice",
    }
    assert [(dest, kind) for dest, kind, _ in outbox[:3]] == [
        ("wms", "fulfilment.requested"),
        ("tms", "shipment.plan_requested"),
        ("erp", "shipment.confirmed"),
    ]
    assert outbox[-1][:2] == ("erp", "invoice.release_requested")
    ladder = list(STATUS_RANK)
    changes = [
        message.payload["status"]
        for message in OutboxMessage.objects.filter(
            type="shipment.status_changed", subject=shipment.number
        ).order_by("pk")
    ]
    assert changes[-1] == "delivered"
    assert changes == sorted(changes, key=ladder.index)  # never a step back
    assert {state for *_, state in outbox} == {"delivered"}
    assert InboundMessage.objects.exclude(state="processed").count() == 0
