"""The inbound sweeper re-queues lost work, not work waiting behind a backlog."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from celery import current_app
from django.utils import timezone

from integrations.models import Connection, InboundMessage
from integrations.queues import broker_queue_depth, broker_started_at
from integrations.services import INBOUND_QUEUE, PROCESS_TASK
from integrations.tasks import inbound_sweep_task

pytestmark = pytest.mark.django_db


def _purge(queue: str) -> None:
    with current_app.connection_for_write() as connection:
        with connection.channel() as channel:
            channel.queue_declare(queue=queue, durable=True, auto_delete=False)
            channel.queue_purge(queue)


@pytest.fixture
def inbound_queue():
    _purge(INBOUND_QUEUE)
    yield INBOUND_QUEUE
    _purge(INBOUND_QUEUE)


def _waiting(queued_seconds_ago: float) -> InboundMessage:
    message = InboundMessage.objects.create(
        connection=Connection.objects.get(code="tms"),
        message_id=str(uuid.uuid4()),
        body=b"{}",
        sha256=uuid.uuid4().hex * 2,
        content_type="application/json",
    )
    queued_at = timezone.now() - dt.timedelta(seconds=queued_seconds_ago)
    InboundMessage.objects.filter(pk=message.pk).update(queued_at=queued_at)
    return message


def test_queue_depth_counts_the_tasks_waiting_in_a_queue():
    queue = f"depth-{uuid.uuid4().hex[:8]}"
    _purge(queue)
    try:
        for number in range(3):
            current_app.send_task(PROCESS_TASK, args=[number], queue=queue)

        assert broker_queue_depth(queue) == 3
    finally:
        _purge(queue)


def test_with_an_empty_queue_a_stale_message_is_queued_again(
    seeded, settings, inbound_queue
):
    settings.WAYBILL_REQUEUE_AFTER_SECONDS = 60
    _waiting(queued_seconds_ago=120)

    assert inbound_sweep_task() == 1


def test_behind_a_backlog_a_merely_slow_message_is_left_in_the_queue(
    seeded, settings, inbound_queue
):
    settings.WAYBILL_REQUEUE_AFTER_SECONDS = 60
    _waiting(queued_seconds_ago=120)
    current_app.send_task(PROCESS_TASK, args=[0], queue=inbound_queue)

    assert inbound_sweep_task() == 0


def test_behind_a_backlog_a_long_stale_message_still_counts_as_lost(
    seeded, settings, inbound_queue
):
    settings.WAYBILL_REQUEUE_AFTER_SECONDS = 60
    _waiting(queued_seconds_ago=601)
    current_app.send_task(PROCESS_TASK, args=[0], queue=inbound_queue)

    assert inbound_sweep_task() == 1


def test_fewer_tasks_waiting_than_stale_messages_means_some_are_lost(
    seeded, settings, inbound_queue
):
    settings.WAYBILL_REQUEUE_AFTER_SECONDS = 60
    _waiting(queued_seconds_ago=120)
    _waiting(queued_seconds_ago=120)
    current_app.send_task(PROCESS_TASK, args=[0], queue=inbound_queue)

    assert inbound_sweep_task() == 2


def test_a_message_queued_before_the_broker_started_is_lost_whatever_waits(
    seeded, settings, inbound_queue
):
    # A period far longer than the broker has run: only its start says lost.
    settings.WAYBILL_REQUEUE_AFTER_SECONDS = 10**6
    lost = _waiting(queued_seconds_ago=120)
    InboundMessage.objects.filter(pk=lost.pk).update(
        queued_at=broker_started_at() - dt.timedelta(seconds=1)
    )
    for number in range(5):
        current_app.send_task(PROCESS_TASK, args=[number], queue=inbound_queue)

    assert inbound_sweep_task() == 1
