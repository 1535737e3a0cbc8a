"""Tasks are queued only after their transaction commits (never before, never on rollback)."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from integrations.models import Connection, InboundMessage, OutboxMessage
from integrations.services import inbound_message_accept
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e


def test_message_committed_after_a_delay_is_processed_on_the_first_attempt(
    seeded, worker
):
    erp = Connection.objects.get(code="erp")

    with transaction.atomic():
        message, _ = inbound_message_accept(
            connection=erp,
            message_id="slow-commit",
            body=b'{"not": "an event"}',
            content_type="application/json",
        )
        time.sleep(1)  # a slow commit: a task queued before it would find no row

    done = wait_for(
        lambda: (
            InboundMessage.objects.exclude(state="received")
            .filter(pk=message.pk)
            .first()
        ),
        timeout=30,
        what="the worker to process the message",
    )
    assert done.attempts == 1
    assert done.state == "needs_attention"
    assert done.error.startswith(
        "missing CloudEvents attribute(s): id, type, subject, time, data"
    )
    assert "DoesNotExist" not in worker.read_text()


def test_rolled_back_message_queues_nothing(seeded, worker):
    erp = Connection.objects.get(code="erp")
    before = worker.read_text().count("inbound_process_task")

    with pytest.raises(RuntimeError, match="after queueing"), transaction.atomic():
        inbound_message_accept(
            connection=erp,
            message_id="rolled-back",
            body=b"{}",
            content_type="application/json",
        )
        raise RuntimeError("fails after queueing, before commit")
    time.sleep(3)

    assert InboundMessage.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert worker.read_text().count("inbound_process_task") == before


def test_outbox_message_committed_after_a_delay_is_sent_on_the_first_attempt(
    seeded, worker
):
    from integrations.outbox import outbox_enqueue
    from tests.receiver import Receiver

    receiver = Receiver().start()
    Connection.objects.filter(code="erp").update(base_url=receiver.url)
    try:
        with transaction.atomic():
            message = outbox_enqueue(
                destination_code="erp",
                type="order.held",
                subject="SO-1",
                payload={"order_number": "SO-1"},
                idempotency_key="held:SO-1",
            )
            time.sleep(1)

        sent = wait_for(
            lambda: OutboxMessage.objects.filter(
                pk=message.pk, state="delivered"
            ).first(),
            timeout=30,
            what="the worker to deliver the message",
        )
    finally:
        receiver.stop()
    assert sent.attempts == 1
    assert len(receiver.requests) == 1


def test_rolled_back_outbox_message_is_never_sent(seeded, worker):
    from integrations.outbox import outbox_enqueue

    before = worker.read_text().count("outbox_dispatch_task")

    with pytest.raises(RuntimeError, match="rolled back"), transaction.atomic():
        outbox_enqueue(
            destination_code="erp",
            type="order.held",
            subject="SO-2",
            payload={},
            idempotency_key="held:SO-2",
        )
        raise RuntimeError("rolled back")
    time.sleep(3)

    assert OutboxMessage.objects.count() == 0
    assert worker.read_text().count("outbox_dispatch_task") == before
