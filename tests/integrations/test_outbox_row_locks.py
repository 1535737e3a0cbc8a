"""Claiming an outbox message locks the message only, never its destination's row.

Secret rotation, an admin save and other claims lock a connection's row; a
claim that also locked it (``select_related`` under ``select_for_update``)
would skip every message of that destination meanwhile and leave it for the
sweeper's re-queue, minutes later.
"""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from integrations.models import Connection, OutboxMessage
from integrations.outbox import outbox_claim_due, outbox_dispatch
from tests.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def due(receiver) -> OutboxMessage:
    partner = Connection.objects.create(
        code="partner",
        name="Partner",
        kind="partner",
        base_url=receiver.url,
        outbound_secret="partner-secret",
    )
    return OutboxMessage.objects.create(
        destination=partner,
        type="shipment.status_changed",
        subject="SH-1",
        payload={"shipment_number": "SH-1"},
        idempotency_key="status:SH-1:delivered",
        next_attempt_at=timezone.now(),
    )


@pytest.fixture
def destination_row_held(due):
    """Hold the destination's row lock in another connection, as a rotation does."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Connection.objects.select_for_update().get(pk=due.destination_id)
                locked.set()
                release.wait(timeout=30)
        finally:
            db_connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(timeout=10)
    yield
    release.set()
    holder.join(timeout=10)


def test_a_due_message_is_sent_while_its_destination_row_is_locked(
    due, destination_row_held, receiver
):
    sent = outbox_dispatch(message_id=due.pk)

    assert sent is not None
    assert sent.state == "delivered"
    assert [json.loads(request.body)["id"] for request in receiver.requests] == [
        "status:SH-1:delivered"
    ]


def test_the_sweeper_claims_a_message_whose_destination_row_is_locked(
    due, destination_row_held
):
    OutboxMessage.objects.filter(pk=due.pk).update(queued_at=None)

    assert [message.pk for message in outbox_claim_due()] == [due.pk]
