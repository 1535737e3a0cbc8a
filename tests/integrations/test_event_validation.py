"""Malformed canonical data is held with a reason on every database."""

from __future__ import annotations

import pytest

from integrations.models import CanonicalEvent
from operations.demo import demo_order
from orders.models import Order
from tests.integrations.events import cloudevent, tms_milestone
from tests.integrations.helpers import deliver
from tests.integrations.shipping import shipment_in_flight

pytestmark = pytest.mark.django_db


def _release(data: dict):
    return deliver(
        "erp",
        cloudevent(
            "order.released",
            "SO-V",
            data,
            source="erp/sim",
            time="2025-03-01T10:00:00Z",
        ),
    )


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("order_number", {"nested": 1}, "order_number must be text, not an object"),
        ("po_number", "P" * 41, "po_number is 41 characters; the most is 40"),
        ("account_number", None, "account_number is missing"),
    ],
)
def test_a_wrongly_typed_or_over_long_field_needs_attention(
    seeded, field, value, reason
):
    data = demo_order(number="SO-V", account_number="ACME", index=0)
    data[field] = value
    orders_before = Order.objects.count()

    message = _release(data)

    assert message.state == "needs_attention"
    assert reason in message.error
    assert CanonicalEvent.objects.get().state == "needs_attention"
    assert Order.objects.count() == orders_before


def test_an_unknown_milestone_kind_is_refused_with_the_known_ones(seeded):
    shipment_in_flight("SH-V1", tracking="CRXV1")
    event = tms_milestone("SH-V1", "PICKUP", "2025-03-02T08:00:00Z", event_id="v-1")
    event["data"]["kind"] = "rumoured"

    message = deliver("tms", event)

    assert message.state == "needs_attention"
    assert "kind 'rumoured' is not one of: actual, estimated, planned" in message.error


def test_an_invoice_that_is_not_a_document_type_we_serve_is_refused(seeded):
    data = {
        "order_number": "SO-V",
        "invoice_number": "INV-1",
        "amount": "10.00",
        "currency": "USD",
        "document": {
            "filename": "inv.html",
            "content_type": "text/html",
            "content_base64": "PGgxPmhpPC9oMT4=",
        },
    }

    message = deliver(
        "erp",
        cloudevent(
            "invoice.released",
            "SO-V",
            data,
            source="erp/sim",
            time="2025-03-01T10:00:00Z",
        ),
    )

    assert message.state == "needs_attention"
    assert "document content_type 'text/html' is not one of:" in message.error


@pytest.mark.parametrize("body", [b"[]", b'{"events": []}'])
def test_a_message_with_no_events_needs_attention_instead_of_passing(seeded, body):
    message = deliver("tms", body)

    assert message.state == "needs_attention"
    assert message.error
    assert CanonicalEvent.objects.count() == 0
