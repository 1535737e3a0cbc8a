"""The outbox sweeper re-queues lost dispatches, not ones waiting behind a backlog."""

from __future__ import annotations

import datetime as dt

import pytest
from celery import current_app
from django.utils import timezone

from integrations.models import Connection, OutboxMessage
from integrations.outbox import DISPATCH_TASK
from integrations.queues import broker_started_at
from integrations.tasks import outbox_sweep_task

pytestmark = pytest.mark.django_db

QUEUE = "outbox.sweeper-partner"


def _purge() -> None:
    with current_app.connection_for_write() as connection:
        with connection.channel() as channel:
            channel.queue_declare(queue=QUEUE, durable=True, auto_delete=False)
            channel.queue_purge(QUEUE)


@pytest.fixture
def partner():
    _purge()
    yield Connection.objects.create(
        code="sweeper-partner", name="Partner", kind="partner", base_url=""
    )
    _purge()


def _queued(partner: Connection, *, seconds_ago: float, key: str) -> OutboxMessage:
    now = timezone.now()
    return OutboxMessage.objects.create(
        destination=partner,
        type="shipment.status_changed",
        subject=key,
        payload={},
        idempotency_key=key,
        next_attempt_at=now - dt.timedelta(seconds=seconds_ago),
        queued_at=now - dt.timedelta(seconds=seconds_ago),
    )


def _tasks_waiting(count: int) -> None:
    for number in range(count):
        current_app.send_task(DISPATCH_TASK, args=[-number], queue=QUEUE)


def test_with_an_empty_queue_a_stale_dispatch_is_queued_again(partner, settings):
    settings.WAYBILL_REQUEUE_AFTER_SECONDS = 60
    _queued(partner, seconds_ago=120, key="a")

    assert outbox_sweep_task() == 1


def test_behind_a_backlog_a_merely_slow_dispatch_is_left_in_the_queue(
    partner, settings
):
    settings.WAYBILL_REQUEUE_AFTER_SECONDS = 60
    waiting = _queued(partner, seconds_ago=120, key="a")
    _tasks_waiting(1)

    assert outbox_sweep_task() == 0
    waiting_since = OutboxMessage.objects.get(pk=waiting.pk).queued_at
    assert waiting_since == waiting.queued_at


def test_behind_a_backlog_a_long_stale_dispatch_still_counts_as_lost(partner, settings):
    settings.WAYBILL_REQUEUE_AFTER_SECONDS = 60
    _queued(partner, seconds_ago=601, key="a")
    _tasks_waiting(1)

    assert outbox_sweep_task() == 1


def test_fewer_tasks_waiting_than_stale_dispatches_means_some_are_lost(
    partner, settings
):
    settings.WAYBILL_REQUEUE_AFTER_SECONDS = 60
    _queued(partner, seconds_ago=120, key="a")
    _queued(partner, seconds_ago=120, key="b")
    _tasks_waiting(1)

    assert outbox_sweep_task() == 2


def test_a_dispatch_queued_before_the_broker_started_is_lost_whatever_waits(
    partner, settings
):
    # A period far longer than the broker has run: only its start says lost.
    settings.WAYBILL_REQUEUE_AFTER_SECONDS = 10**6
    started = broker_started_at()
    lost = _queued(partner, seconds_ago=120, key="lost")
    OutboxMessage.objects.filter(pk=lost.pk).update(
        queued_at=started - dt.timedelta(seconds=1)
    )
    _tasks_waiting(5)

    assert outbox_sweep_task() == 1
