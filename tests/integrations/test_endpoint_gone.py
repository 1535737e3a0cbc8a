"""A 410 Gone pauses sending to a destination, never what it sends the hub."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import Connection, InboundMessage, OutboxMessage
from integrations.outbox import (
    outbox_claim_due,
    outbox_dispatch,
    outbox_message_replay,
)
from integrations.services import inbound_message_process
from operations.demo import demo_order
from operations.models import ExceptionCase
from shipments.models import Shipment
from tests.admin.test_admin import _connection_form
from tests.integrations.endpoints import Answer, ScriptedReceiver
from tests.integrations.events import cloudevent
from tests.integrations.helpers import deliver
from tests.integrations.test_order_release import released

pytestmark = pytest.mark.django_db


@pytest.fixture
def wms_endpoint(seeded):
    """Point the seeded WMS at a loopback receiver that answers 410 first."""
    receiver = ScriptedReceiver(Answer(410, body=b"endpoint removed")).start()
    Connection.objects.filter(code="wms").update(base_url=receiver.url)
    yield receiver
    receiver.stop()


def _release(number: str) -> OutboxMessage:
    """Release an order at the ERP; return its fulfilment request."""
    data = demo_order(number=number, account_number="ACME", index=0)
    deliver("erp", released(data))
    return OutboxMessage.objects.get(type="fulfilment.requested", subject=number)


def _gone(receiver: ScriptedReceiver) -> OutboxMessage:
    """Send the first fulfilment request into the 410; return it."""
    message = _release("SO-1")
    outbox_dispatch(message_id=message.pk)
    message.refresh_from_db()
    assert (message.state, message.response_status) == ("dead", 410)
    assert len(receiver.seen) == 1
    return message


def _packed(number: str) -> dict:
    return cloudevent(
        "shipment.packed",
        f"SH-{number}",
        {
            "order_number": number,
            "shipment_number": f"SH-{number}",
            "ship_from": "DC-EAST",
            "packages": [{"sscc": "003456789012345675", "weight_kg": "2.5"}],
            "lines": [{"line_number": 1, "sku": "SKU-A", "quantity": "1"}],
        },
        source="wms/sim",
        time="2025-03-01T12:00:00Z",
    )


def test_410_pauses_sending_only_and_says_so_in_its_case(wms_endpoint):
    dead = _gone(wms_endpoint)

    wms = Connection.objects.get(code="wms")
    case = ExceptionCase.objects.get()
    assert (wms.enabled, wms.sending_enabled) == (True, False)
    assert (case.kind, case.dedupe_key, case.state) == (
        "endpoint_gone",
        "endpoint_gone:wms",
        "open",
    )
    assert case.title == "wms answered 410 Gone: sending paused"
    assert case.detail == (
        "fulfilment.requested SO-1: HTTP 410: endpoint removed\n"
        "Nothing more is sent to wms; messages from it are still accepted. "
        "Fix the base URL, turn sending on again (the connection's Sending "
        "enabled), then replay its dead messages; messages held meanwhile go "
        "out by themselves."
    )
    assert case.outbox_message == dead


def test_inbound_from_a_system_whose_endpoint_is_gone_is_accepted_and_processed(
    wms_endpoint, post_signed
):
    _gone(wms_endpoint)
    wms = Connection.objects.get(code="wms")

    response = post_signed(wms, _packed("SO-1"), message_id="wms-packed-1")
    processed = inbound_message_process(message_id=response.json()["message_id"])

    shipment = Shipment.objects.get(number="SH-SO-1")
    assert response.status_code == 202
    assert processed.state == InboundMessage.State.PROCESSED
    assert (shipment.order.number, shipment.status) == ("SO-1", "planned")


def test_nothing_is_sent_while_paused_and_no_attempt_is_used(wms_endpoint):
    _gone(wms_endpoint)
    held = _release("SO-2")

    outbox_dispatch(message_id=held.pk)
    swept = [m.pk for m in outbox_claim_due() if m.destination.code == "wms"]

    held.refresh_from_db()
    assert len(wms_endpoint.seen) == 1
    assert (held.state, held.attempts, held.last_error) == ("pending", 0, "")
    assert held.queued_at is None
    assert swept == []


def test_sending_turned_on_in_the_admin_then_replay_delivers_everything(
    wms_endpoint, admin_client
):
    dead = _gone(wms_endpoint)
    held = _release("SO-2")
    outbox_dispatch(message_id=held.pk)
    wms = Connection.objects.get(code="wms")

    response = admin_client.post(
        reverse("admin:integrations_connection_change", args=[wms.pk]),
        _connection_form(wms, kind="wms", sending_enabled="on"),
        follow=True,
    )
    outbox_message_replay(message_ids=[dead.pk])
    outbox_dispatch(message_id=dead.pk)
    swept = [m.pk for m in outbox_claim_due() if m.destination.code == "wms"]
    for pk in swept:
        outbox_dispatch(message_id=pk)

    wms.refresh_from_db()
    dead.refresh_from_db()
    held.refresh_from_db()
    sent = [request.headers["Idempotency-Key"] for request in wms_endpoint.seen]
    assert wms.sending_enabled is True
    assert [str(m) for m in response.context["messages"]][0] == (
        "Sending to wms is on again: held messages go out at the next sweep. "
        "Replay its dead messages to send them too."
    )
    assert swept == [held.pk]
    assert (dead.state, dead.response_status) == ("delivered", 202)
    assert (held.state, held.response_status) == ("delivered", 202)
    assert sent == [dead.idempotency_key, dead.idempotency_key, held.idempotency_key]


def test_admin_lists_and_filters_connections_by_sending(admin_client, wms_endpoint):
    _gone(wms_endpoint)

    listing = admin_client.get(
        reverse("admin:integrations_connection_changelist"),
        {"sending_enabled__exact": "0"},
    )

    codes = [row.code for row in listing.context["cl"].result_list]
    assert codes == ["wms"]
    assert "column-sending_enabled" in listing.text
